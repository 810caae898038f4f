import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CaptureHub, type HubSource } from '../../../../../src/platform/linux/trace/capture-hub.js';
import {
  CaptureError,
  type Capture,
  type CaptureOptions,
} from '../../../../../src/platform/linux/trace/capture-process.js';
import type { TraceEvent } from '../../../../../src/trace/types.js';

/** A source whose captures are in memory: what was opened, what is still open. */
function fakeSource(opts: { fail?: boolean } = {}) {
  const opened: { capture: Capture; handlers: CaptureOptions; closed: boolean }[] = [];
  const source: HubSource = {
    open: (_o, _flush, handlers) => {
      if (opts.fail) return Promise.reject(new CaptureError('no kernel support', 'EPERM'));
      const entry = { handlers, closed: false } as (typeof opened)[number];
      entry.capture = {
        pid: 1000 + opened.length,
        mode: 'bpf',
        realtime: null,
        drain: () => Promise.resolve(),
        follow: () => undefined,
        followCgroup: () => undefined,
        passAll: () => undefined,
        close: () => {
          entry.closed = true;
          return Promise.resolve();
        },
      };
      opened.push(entry);
      return Promise.resolve(entry.capture);
    },
    unavailable: (err) => new Error(`unavailable: ${err.message}`),
    overflow: 'full',
  };
  return { source, opened, open: () => opened.filter((o) => !o.closed).length };
}

const target = (initPid: number) => ({
  label: `t${initPid}`,
  initPid,
  cgroupName: undefined,
  joiners: false,
  existing: [],
});

describe('capture hub', () => {
  it('shares one capture between tracers and closes it with the last one', async () => {
    const f = fakeSource();
    const hub = new CaptureHub(f.source);
    const a = await hub.acquire();
    const b = await hub.acquire();
    assert.equal(f.opened.length, 1);
    await hub.release(a);
    assert.equal(f.open(), 1, 'b still uses it');
    await hub.release(b);
    assert.equal(f.open(), 0);
    await hub.release(await hub.acquire());
    assert.equal(f.opened.length, 2, 'the next tracer gets a fresh one');
  });

  it('keeps a probe’s capture for the next tracer, which then owns it, and closes it if none comes', async () => {
    const f = fakeSource();
    const hub = new CaptureHub(f.source);
    await hub.probe(50);
    const lease = await hub.acquire();
    assert.equal(f.opened.length, 1, 'the tracer took the probe’s capture');
    await sleep(80);
    assert.equal(f.open(), 1, 'the probe’s timer no longer closes it');
    await hub.release(lease);
    assert.equal(f.open(), 0, 'its tracer’s release does');
    await hub.probe(30);
    assert.equal(f.open(), 1);
    await sleep(60);
    assert.equal(f.open(), 0, 'nobody came: closed');
  });

  it('tells every tracer of a capture that died, and keeps its replacement from their releases', async () => {
    const f = fakeSource();
    const hub = new CaptureHub(f.source);
    const old = await hub.acquire();
    const events: TraceEvent[] = [];
    await hub.add(target(5), (e) => events.push(e), old);
    f.opened[0]?.handlers.onError(new Error('capture exited (SIGKILL)'));
    assert.deepEqual(
      events.map((e) => e.type),
      ['lost'],
    );
    const fresh = await hub.acquire();
    assert.equal(f.opened.length, 2);
    await hub.release(old);
    assert.equal(f.opened[1]?.closed, false, 'the dead capture’s user does not close the new one');
    await hub.release(fresh);
    assert.equal(f.opened[1]?.closed, true);
  });

  it('tells a tracer whose capture died before it was followed that its record is incomplete', async () => {
    const f = fakeSource();
    const hub = new CaptureHub(f.source);
    const lease = await hub.acquire();
    f.opened[0]?.handlers.onError(new Error('capture exited'));
    const events: TraceEvent[] = [];
    await hub.add(target(6), (e) => events.push(e), lease);
    assert.deepEqual(
      events.map((e) => e.type),
      ['lost'],
    );
  });

  it('says why a capture could not start, and tries again next time', async () => {
    const f = fakeSource({ fail: true });
    const hub = new CaptureHub(f.source);
    await assert.rejects(hub.acquire(), /unavailable: no kernel support/);
    await assert.rejects(hub.acquire(), /unavailable/);
  });
});
