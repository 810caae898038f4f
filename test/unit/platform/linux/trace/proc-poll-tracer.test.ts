import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcPollTracer } from '../../../../../src/platform/linux/trace/proc-poll-tracer.js';
import type { TraceEvent } from '../../../../../src/trace/types.js';
import { FakeProc } from '../../../../helpers/fake-proc.js';

function tree(proc: FakeProc) {
  return (root: number) => {
    const out: number[] = [];
    const queue = [root];
    while (queue.length) {
      const p = queue.shift() as number;
      for (const [pid, info] of proc.procs) {
        if (info.ppid !== p) continue;
        out.push(pid);
        queue.push(pid);
      }
    }
    return out;
  };
}

describe('/proc polling tracer', () => {
  it('finds processes of the sandbox each interval, and only those', async () => {
    const proc = new FakeProc().set(10, { ppid: 1, argv: ['bwrap'] }).set(900, { ppid: 1, argv: ['host'] });
    const t = new ProcPollTracer({ intervalMs: 10, proc, descendants: tree(proc) });
    const events: TraceEvent[] = [];
    t.onEvent((e) => events.push(e));
    await t.start({ initPid: 10, sandbox: 'box' });
    proc.set(11, { ppid: 10, argv: ['python3', 'server.py', '--name', 'a b'] });
    proc.set(901, { ppid: 900, argv: ['host-child'] });
    await sleep(40);
    const exec = events.find((e) => e.type === 'exec');
    assert.ok(exec?.type === 'exec');
    assert.deepEqual(
      [exec.pid, exec.command, exec.args, exec.sandbox],
      [11, 'python3', ['server.py', '--name', 'a b'], 'box'],
    );
    assert.ok(events.every((e) => e.type === 'lost' || e.pid !== 901));
    proc.procs.delete(11);
    await t.stop();
    assert.deepEqual(
      events.map((e) => e.type),
      ['fork', 'exec', 'exit'],
    );
  });

  it('uses the cgroup to find processes that left the tree (double fork)', async () => {
    const proc = new FakeProc().set(10, { ppid: 1, argv: ['bwrap'] }).set(30, { ppid: 1, argv: ['daemon'] });
    const t = new ProcPollTracer({ intervalMs: 1000, proc, descendants: () => [] });
    const events: TraceEvent[] = [];
    t.onEvent((e) => events.push(e));
    await t.start({ initPid: 10, cgroupProcs: () => [10, 30] });
    proc.procs.delete(30);
    await t.stop();
    assert.deepEqual(
      events.map((e) => e.type !== 'lost' && [e.type, e.pid]),
      [
        ['exec', 30],
        ['exit', 30],
      ],
    );
  });

  it('stops its timer: nothing is read after stop', async () => {
    const proc = new FakeProc().set(10, { ppid: 1, argv: ['bwrap'] });
    const t = new ProcPollTracer({ intervalMs: 5, proc, descendants: () => [] });
    await t.start({ initPid: 10 });
    await t.stop();
    const reads = proc.reads;
    await sleep(30);
    assert.equal(proc.reads, reads);
  });
});
