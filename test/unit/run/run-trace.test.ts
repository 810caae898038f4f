import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { LinuxBackend, isCorralError, run } from '../../../src/index.js';
import { StubTracer } from '../../../src/trace/stub-tracer.js';
import type { TraceEvent } from '../../../src/trace/types.js';
import { fakeLauncher } from '../../helpers/fake-bwrap.js';
import { FakeTracer, execEvent } from '../../helpers/fake-tracer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'corral-runtrace-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function backend(onBlocked?: (initPid: number) => void) {
  const launcher = fakeLauncher({ stdout: 'ok\n', ...(onBlocked && { onBlocked }) });
  const b = new LinuxBackend({
    launcher,
    cgroups: () => ({ driver: undefined, problems: [] }),
    bwrapPath: '/usr/bin/bwrap',
    prlimitPath: '/usr/bin/prlimit',
    hostUid: 1000,
    hostGid: 1000,
  });
  return { b, launcher };
}

describe('run with trace', () => {
  it('starts the tracer on the sandbox init before the command is released, and returns a summary', async () => {
    const tracer = new FakeTracer();
    const order: string[] = [];
    tracer.onEvent(() => order.push('event'));
    const { b } = backend((initPid) => {
      order.push(`released ${initPid}, tracer on ${tracer.target?.initPid}`);
      tracer.push(execEvent(['git', 'commit', '-m', 'x'], { pid: initPid + 1 }));
    });
    const events: TraceEvent[] = [];
    const file = path.join(dir, 'run.jsonl');
    const r = await run(
      { command: ['/bin/true'] },
      { backend: b, trace: { tracer, file, label: 'job-1', onEvent: (e) => events.push(e) } },
    );
    assert.equal(r.exitCode, 0);
    assert.match(order[0] ?? '', /^released (\d+), tracer on \1$/);
    assert.equal(events.length, 1);
    assert.equal(r.trace?.flagged['git-commit'].count, 1);
    assert.equal(tracer.target?.sandbox, 'job-1');
    assert.equal(tracer.closed, 1);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    assert.deepEqual(
      lines.map((l) => l.type),
      ['start', 'exec', 'end'],
    );
  });

  it('refuses to run at all when this host cannot trace', async () => {
    const { b, launcher } = backend();
    await assert.rejects(
      run(
        { command: ['/bin/true'] },
        { backend: b, trace: { tracer: new StubTracer('no tracer here', 'run as root') } },
      ),
      (e) =>
        isCorralError(e) &&
        e.code === 'E_UNSUPPORTED' &&
        /cannot trace this run: no tracer here/.test(e.message),
    );
    assert.equal(launcher.launches.length, 0);
  });

  it('tears the sandbox down and stops the tracer when the tracer cannot start', async () => {
    const tracer = new FakeTracer();
    tracer.failStart = new Error('socket refused');
    const { b } = backend();
    await assert.rejects(
      run({ command: ['/bin/true'] }, { backend: b, trace: { tracer } }),
      /socket refused/,
    );
    assert.equal(tracer.closed, 1);
  });

  it('runs without a trace summary when no trace is asked for', async () => {
    const { b } = backend();
    const r = await run({ command: ['/bin/true'] }, { backend: b });
    assert.equal(r.trace, undefined);
  });
});
