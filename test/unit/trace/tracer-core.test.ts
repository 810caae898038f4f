import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCorralError } from '../../../src/errors.js';
import type { TraceEvent } from '../../../src/trace/types.js';
import { FakeTracer, execEvent } from '../../helpers/fake-tracer.js';

const fork = (pid: number): TraceEvent => ({ type: 'fork', timestamp: 't', pid, ppid: 1, sandbox: 'box' });

describe('tracer lifecycle and delivery', () => {
  it('delivers each event to listeners, exec listeners and every events() stream', async () => {
    const t = new FakeTracer();
    const all: string[] = [];
    const execs: number[] = [];
    t.onEvent((e) => all.push(e.type));
    t.onExec((e) => execs.push(e.pid));
    const stream = t.events();
    await t.start({ initPid: 10, cgroupName: 'cg' });
    t.push(fork(11));
    t.push(execEvent(['ls'], { pid: 11 }));
    await t.stop();
    const streamed: string[] = [];
    for await (const e of stream) streamed.push(e.type);
    assert.deepEqual(all, ['fork', 'exec']);
    assert.deepEqual(execs, [11]);
    assert.deepEqual(streamed, ['fork', 'exec']);
    assert.equal(t.target?.cgroupName, 'cg');
  });

  it('counts execs, captured argv, forks, exits and losses', async () => {
    const t = new FakeTracer();
    await t.start({ initPid: 10 });
    t.push(execEvent(['a']));
    t.push(execEvent(null));
    t.push(fork(3));
    t.push({ type: 'lost', timestamp: 't', sandbox: 'b', reason: 'x' });
    assert.deepEqual(await t.stop(), { execs: 2, execsWithArgv: 1, forks: 1, exits: 0, lost: 1 });
  });

  it('stops calling a listener once it unsubscribes', async () => {
    const t = new FakeTracer();
    const seen: number[] = [];
    const off = t.onEvent((e) => seen.push(e.type === 'fork' ? e.pid : -1));
    t.onEvent(() => seen.push(0));
    await t.start({ initPid: 10 });
    t.push(fork(1));
    off();
    t.push(fork(2));
    assert.deepEqual(seen, [1, 0, 0]);
    await t.stop();
  });

  it('is stopped once however often stop() is called, and delivers nothing after', async () => {
    const t = new FakeTracer();
    await t.start({ initPid: 10 });
    await Promise.all([t.stop(), t.stop()]);
    await t.stop();
    assert.equal(t.closed, 1);
    t.push(fork(1));
    assert.equal(t.counts().forks, 0);
  });

  it('refuses to start twice or with a bad pid', async () => {
    const t = new FakeTracer();
    await assert.rejects(t.start({ initPid: 0 }), (e) => isCorralError(e) && e.code === 'E_STATE');
    const u = new FakeTracer();
    await u.start({ initPid: 5 });
    await assert.rejects(u.start({ initPid: 5 }), /cannot start the tracer: it is running/);
    await u.stop();
  });

  it('releases what it opened when starting fails, and ends open streams', async () => {
    const t = new FakeTracer();
    t.failStart = new Error('no socket');
    const stream = t.events();
    await assert.rejects(t.start({ initPid: 5 }), /no socket/);
    assert.equal(t.closed, 1);
    const got: TraceEvent[] = [];
    for await (const e of stream) got.push(e);
    assert.deepEqual(got, []);
  });

  it('stopped while it starts, releases what the start acquired once the start is done', async () => {
    const t = new FakeTracer();
    let open = () => undefined as void;
    t.gate = new Promise<void>((resolve) => (open = resolve));
    const starting = t.start({ initPid: 5 });
    const stopping = t.stop();
    open();
    await starting;
    await stopping;
    assert.deepEqual(t.closedAfterOpen, [true], 'closed once, after it had opened');
  });

  it('bounds a stream that is not read, and says how many events it dropped', async () => {
    const t = new FakeTracer();
    const stream = t.events()[Symbol.asyncIterator]();
    await t.start({ initPid: 5 });
    for (let i = 0; i < 100_010; i++) t.push(fork(i));
    await t.stop();
    let n = 0;
    let lost: TraceEvent | undefined;
    for (let r = await stream.next(); !r.done; r = await stream.next()) {
      if (r.value.type === 'lost') lost = r.value;
      else n++;
    }
    assert.equal(n, 100_000);
    assert.match(lost?.type === 'lost' ? lost.reason : '', /^10 events dropped/);
  });

  it('ends a stream early when the consumer breaks out of it', async () => {
    const t = new FakeTracer();
    await t.start({ initPid: 5 });
    const stream = t.events();
    t.push(fork(1));
    t.push(fork(2));
    for await (const e of stream) {
      assert.equal(e.type, 'fork');
      break;
    }
    t.push(fork(3));
    await t.stop();
  });

  it('can be disposed with await using', async () => {
    const t = new FakeTracer();
    {
      await using u = t;
      await u.start({ initPid: 5 });
    }
    assert.equal(t.closed, 1);
  });
});
