import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run, spawn } from '../../../src/index.js';
import { ProcPollTracer } from '../../../src/platform/linux/trace/proc-poll-tracer.js';
import type { ExecEvent, TraceEvent } from '../../../src/trace/types.js';
import { linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

describe('/proc polling tracer on a real sandbox', () => {
  it('finds a long-lived process and its arguments, and sees it end', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const events: TraceEvent[] = [];
    const r = await run(
      { command: ['sh', '-c', `python3 -c 'import time; time.sleep(0.6)' "long lived" ünï; exit 4`] },
      { trace: { backend: 'proc-poll', intervalMs: 50, onEvent: (e) => events.push(e) } },
    );
    assert.equal(r.exitCode, 4);
    const py = events.find((e): e is ExecEvent => e.type === 'exec' && e.command === 'python3');
    assert.ok(py, `events: ${JSON.stringify(events)}`);
    assert.deepEqual(py.args, ['-c', 'import time; time.sleep(0.6)', 'long lived', 'ünï']);
    assert.match(py.exe ?? '', /\/python3/);
    assert.ok(events.some((e) => e.type === 'exit' && e.pid === py.pid && e.status === null));
    assert.equal(r.trace?.backend, 'proc-poll');
  });

  it('reports a process that was already running when it attached', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const proc = spawn({ command: ['sh', '-c', 'sleep 5 & wait'] }, { stdout: 'ignore', stderr: 'ignore' });
    await proc.start();
    const tracer = new ProcPollTracer({ intervalMs: 50 });
    try {
      // Give the shell time to start its child, then attach from outside, as `corral trace` would.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const seen: ExecEvent[] = [];
      tracer.onExec((e) => seen.push(e));
      await tracer.start({ initPid: proc.pid as number });
      const sleep = seen.find((e) => e.command === 'sleep');
      assert.deepEqual(sleep?.args, ['5']);
      assert.equal(sleep?.attached, true);
    } finally {
      await tracer.stop();
      proc.kill();
      await proc.wait();
    }
  });
});
