import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFINE_NL, shellCommand, shellQuote } from '../../../../../src/platform/linux/warm/shell-quote.js';

/** What /bin/sh makes of a quoted command line: its argv, one per NUL-terminated record. */
function shellArgv(line: string): string[] {
  assert.ok(!line.includes('\n'), 'the command line is a single line');
  const script = `${DEFINE_NL}; eval "set -- $(cat)"; for a in "$@"; do printf '%s\\0' "$a"; done`;
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', input: line });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shell quoting for the parked launcher', () => {
  it('keeps quotes, dollars, backquotes, backslashes, newlines and unicode intact', () => {
    const argv = ["it's", '$HOME', '`id`', '\\n', 'multi\nline', 'a b', '', '*', 'üñí 漢字', "''"];
    assert.deepEqual(shellArgv(shellCommand(argv)), argv);
  });

  it('round-trips any argument list through /bin/sh', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\0', '')),
          { maxLength: 6 },
        ),
        (argv) => {
          assert.deepEqual(shellArgv(shellCommand(argv)), argv);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a NUL byte rather than cutting the argument short', () => {
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });
});
