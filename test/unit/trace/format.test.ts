import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRecord, shellQuote } from '../../../src/trace/format.js';
import { decodeWaitStatus } from '../../../src/trace/wait-status.js';
import { execEvent } from '../../helpers/fake-tracer.js';

const base = { timestamp: '2024-05-01T12:00:01.234Z', sandbox: 'box' };

describe('formatting events for people', () => {
  it('quotes arguments only when a shell would need it', () => {
    assert.equal(shellQuote('plain-arg_1.txt'), 'plain-arg_1.txt');
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('héllo wörld'), "'héllo wörld'");
    assert.equal(shellQuote('a\nb\x1b[31m'), "$'a\\nb\\x1b[31m'");
  });

  it('shows an exec with time, pids, the quoted command line, tags and cwd', () => {
    const line = formatRecord(
      execEvent(['git', '-C', 'repo', 'commit', '-m', 'fix the bug'], { ...base, pid: 42, ppid: 7 }),
      {
        utc: true,
      },
    );
    assert.equal(
      line,
      "12:00:01.234 exec  42 <- 7       git -C repo commit -m 'fix the bug'  [git-commit] cwd=/work",
    );
  });

  it('says plainly when the argv was not captured', () => {
    const line = formatRecord(execEvent(null, { ...base }), { utc: true });
    assert.match(line, /exec {2}100 <- 99 +true \[argv not captured: the process was gone\]/);
  });

  it('shows how a process ended', () => {
    const exit = (status: number | null) => ({
      type: 'exit' as const,
      ...base,
      pid: 5,
      ppid: 1,
      status,
      ...(status === null ? { exitCode: null, signal: null, coreDumped: false } : decodeWaitStatus(status)),
      command: 'cc',
    });
    assert.match(formatRecord(exit(2 << 8), { utc: true }), /exit {2}5 +exit 2 {2}\(cc\)$/);
    assert.match(formatRecord(exit(9), { utc: true }), /killed by SIGKILL {2}\(cc\)$/);
    assert.match(formatRecord(exit(0x80 | 6), { utc: true }), /killed by SIGABRT \(core dumped\)/);
    assert.match(formatRecord(exit(null), { utc: true }), /ended \(status unknown\)/);
  });

  it('shows losses, start and end of a trace', () => {
    assert.match(
      formatRecord({ type: 'lost', ...base, reason: 'buffer full' }),
      /LOST {2}events were missed: buffer full/,
    );
    assert.match(
      formatRecord({ type: 'start', ...base, backend: 'proc-connector', initPid: 9 }),
      /trace of box started \(backend proc-connector, init pid 9\)/,
    );
    assert.match(
      formatRecord({
        type: 'end',
        ...base,
        counts: { execs: 3, execsWithArgv: 3, forks: 2, exits: 3, lost: 1 },
      }),
      /ended: 3 execs, 2 forks, 3 exits, 1 losses/,
    );
  });
});

describe('wait status', () => {
  it('decodes an exit code, a signal and a core dump', () => {
    assert.deepEqual(decodeWaitStatus(0), { exitCode: 0, signal: null, coreDumped: false });
    assert.deepEqual(decodeWaitStatus(127 << 8), { exitCode: 127, signal: null, coreDumped: false });
    assert.deepEqual(decodeWaitStatus(15), { exitCode: null, signal: 'SIGTERM', coreDumped: false });
    assert.deepEqual(decodeWaitStatus(0x80 | 11), { exitCode: null, signal: 'SIGSEGV', coreDumped: true });
  });
});
