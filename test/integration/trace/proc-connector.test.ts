import assert from 'node:assert/strict';
import { spawn as spawnHost } from 'node:child_process';
import { describe, it } from 'node:test';
import { ProcConnectorTracer } from '../../../src/platform/linux/trace/proc-connector-tracer.js';
import { running } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import { connectorSockets, procConnectorMissing } from '../../helpers/tracing.js';
import { kernelTracerCases, tracedBy } from './kernel-tracer-cases.js';

const traced = tracedBy('proc-connector');

describe('proc connector tracing of a real sandbox', () => {
  kernelTracerCases({
    backend: 'proc-connector',
    create: () => new ProcConnectorTracer(),
    exportName: 'ProcConnectorTracer',
    missing: procConnectorMissing,
    held: connectorSockets,
  });

  it("never passes the capture's real-time priority on to the sandbox", async (t) => {
    if (!requireOrSkip(t, await procConnectorMissing())) return;
    const { result } = await traced(['sh', '-c', 'grep policy /proc/self/sched']);
    assert.match(result.stdout ?? '', /^policy\s*:\s*0$/m, 'SCHED_OTHER');
  });

  it('releases its netlink sockets and capture process when stopped', async (t) => {
    if (!requireOrSkip(t, await procConnectorMissing())) return;
    const child = spawnHost('sleep', ['5'], { stdio: 'ignore' });
    const tracer = new ProcConnectorTracer();
    await tracer.start({ initPid: child.pid as number });
    const capture = tracer.capturePid as number;
    assert.ok(capture > 0);
    const held = connectorSockets(capture);
    assert.ok(held === 1 || held === 2, `the capture holds one or two sockets while tracing (${held})`);
    assert.equal(connectorSockets('self'), 0, 'corral itself holds none');
    await tracer.stop();
    assert.equal(connectorSockets(capture), 0, 'none after stop');
    assert.equal(running(capture), false, 'the capture has ended');
    child.kill();
    // And again: a stopped hub starts afresh.
    const again = new ProcConnectorTracer();
    await again.start({ initPid: process.pid });
    assert.ok(again.capturePid !== undefined && again.capturePid !== capture);
    await again.stop();
  });
});
