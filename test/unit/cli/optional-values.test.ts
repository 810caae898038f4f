import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { attachOptionalValues } from '../../../src/cli/optional-values.js';

function program(): Command {
  const p = new Command('corral');
  p.command('run')
    .argument('<command...>')
    .option('--memory <size>')
    .option('-e, --env <kv>')
    .option('--best-effort')
    .option('--trace [file]');
  p.command('capabilities').option('--json');
  return p;
}

describe('optional option values must be attached with =', () => {
  it('turns a bare --trace into --trace= so the next word stays the command', () => {
    assert.deepEqual(attachOptionalValues(program(), ['run', '--trace', 'python3', 'job.py']), [
      'run',
      '--trace=',
      'python3',
      'job.py',
    ]);
  });

  it('leaves --trace=FILE and the values of other options alone', () => {
    const argv = ['run', '--memory', '--trace', '-e', 'A=1', '--trace=t.jsonl', '--best-effort', 'ls'];
    assert.deepEqual(attachOptionalValues(program(), argv), argv);
  });

  it('never touches the command or what follows --', () => {
    for (const argv of [
      ['run', '--', 'strace', '--trace', 'x'],
      ['run', 'mytool', '--trace', 'x'],
      ['run', '--memory', '64Mi', 'mytool', '--trace'],
    ])
      assert.deepEqual(attachOptionalValues(program(), argv), argv, argv.join(' '));
  });

  it('does nothing without a known subcommand', () => {
    assert.deepEqual(attachOptionalValues(program(), ['--version']), ['--version']);
    assert.deepEqual(attachOptionalValues(program(), ['capabilities', '--json']), ['capabilities', '--json']);
  });
});
