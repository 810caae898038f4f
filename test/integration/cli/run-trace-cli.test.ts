import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { corral, linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

describe('corral run --trace (CLI)', () => {
  it('writes every event as JSONL to the file given with --trace=FILE', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-cli-trace-'));
    try {
      const file = path.join(dir, 'trace.jsonl');
      const r = await corral([
        'run',
        `--trace=${file}`,
        '--',
        'sh',
        '-c',
        'git -C /tmp status >/dev/null 2>&1; exit 3',
      ]);
      assert.equal(r.code, 3);
      assert.doesNotMatch(r.stderr, /trace:/);
      const records = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; command?: string; args?: string[] });
      assert.equal(records[0]?.type, 'start');
      assert.equal(records.at(-1)?.type, 'end');
      const git = records.find((e) => e.type === 'exec' && e.command === 'git');
      assert.deepEqual(git?.args, ['-C', '/tmp', 'status']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints a short summary on stderr with a bare --trace, and the word after it is the command', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await corral([
      'run',
      '--trace',
      'sh',
      '-c',
      // sleep lives long enough for its argv to be read even on a loaded machine; a
      // /bin/true can be gone before the reader gets to it (reported, never guessed).
      'curl --version >/dev/null 2>&1; sleep 0.2; echo done',
    ]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'done\n');
    assert.match(
      r.stderr,
      /^corral: trace: \d+ execs \(argv captured for [\d.]+%\), \d+ forks, \d+ exits, \d+ failed; backend /m,
    );
    assert.match(r.stderr, /^corral: trace: commands: .*\bsleep x1/m);
  });

  it('puts the trace summary in the result file', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-cli-trace-'));
    try {
      const result = path.join(dir, 'result.json');
      const r = await corral(['run', '--trace', '--result-file', result, '--', '/bin/echo', 'x']);
      assert.equal(r.code, 0);
      const json = JSON.parse(readFileSync(result, 'utf8')) as {
        trace?: { execs: number; commands: unknown[] };
      };
      assert.equal(json.trace?.execs, 1);
      assert.deepEqual(json.trace?.commands, [{ command: 'echo', count: 1 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with 125 and nothing run when the trace file cannot be written', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await corral(['run', '--trace=/nonexistent-dir/t.jsonl', '--', 'sh', '-c', 'echo ran']);
    assert.equal(r.code, 125);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /nonexistent-dir/);
  });
});
