import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, UnsupportedError } from '../../../src/errors.js';
import type { KillEvent } from '../../../src/limits/types.js';
import { UserspaceLimiter } from '../../../src/limits/userspace-limiter.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { FakeTree } from '../../helpers/fake-tree.js';

function setup() {
  const clock = new FakeClock();
  const tree = new FakeTree(clock);
  const limiter = new UserspaceLimiter({ sampler: tree, signal: tree.signal, clock });
  return { clock, tree, limiter };
}

const MiB = 2 ** 20;

describe('UserspaceLimiter: CPU throttle', () => {
  it('holds a one-core spinner to half a core under cpus 0.5', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, pgid: 100, rate: 1 });
    const h = limiter.apply({ cpus: 0.5 });
    h.assign(100);
    await clock.advance(20_000);
    const share = tree.cpuMs(100) / 20_000;
    assert.ok(Math.abs(share - 0.5) < 0.03, `share ${share}`);
    const s = h.stats();
    assert.ok(s.throttles >= 15, `throttles ${s.throttles}`);
    assert.ok(Math.abs(s.throttledMs - 10_000) < 600, `throttled ${s.throttledMs} ms`);
    await h.release();
  });

  it('holds a two-core tree to a quarter of a core', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, pgid: 100, rate: 1 }).add({ pid: 101, ppid: 100, pgid: 100, rate: 1 });
    const h = limiter.apply({ cpus: 0.25, intervalMs: 200 });
    h.assign(100);
    await clock.advance(30_000);
    const share = (tree.cpuMs(100) + tree.cpuMs(101)) / 30_000;
    assert.ok(Math.abs(share - 0.25) < 0.02, `share ${share}`);
    await h.release();
  });

  it('pauses for a time proportional to the excess: (used - allowed) / limit', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, pgid: 100, rate: 1 });
    const h = limiter.apply({ cpus: 0.25 });
    h.assign(100);
    await clock.advance(2_100);
    const stop = tree.signals.find((s) => s.signal === 'SIGSTOP' && s.pid === 100);
    const cont = tree.signals.find((s) => s.signal === 'SIGCONT' && s.pid === 100);
    assert.ok(stop && cont);
    // 500 ms of one core against 125 ms allowed: 375 ms of excess at 0.25 CPU is 1500 ms.
    assert.equal(stop.t, 500);
    assert.equal(cont.t - stop.t, 1500);
    await h.release();
  });

  it('leaves a tree within its allowance alone', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, pgid: 100, rate: 0.3 });
    const h = limiter.apply({ cpus: 0.5 });
    h.assign(100);
    await clock.advance(10_000);
    assert.deepEqual(
      tree.signals.map((s) => s.signal),
      [],
    );
    assert.ok(Math.abs((h.stats().cpuPercent ?? 0) - 30) < 0.001, `cpu% ${h.stats().cpuPercent}`);
    await h.release();
  });

  it('stops every process of the tree and the groups led inside it, never a group led outside', async () => {
    const { clock, tree, limiter } = setup();
    // The root sits in a group led by its (host) parent 50; a child leads its own group.
    tree
      .add({ pid: 50, pgid: 50 })
      .add({ pid: 100, ppid: 50, pgid: 50, rate: 1 })
      .add({ pid: 101, ppid: 100, pgid: 101, rate: 1 })
      .add({ pid: 102, ppid: 101, pgid: 101 });
    const h = limiter.apply({ cpus: 0.5 });
    h.assign(100);
    await clock.advance(600);
    const stopped = tree.signals.filter((s) => s.signal === 'SIGSTOP').map((s) => s.pid);
    assert.deepEqual(new Set(stopped), new Set([-101, 100, 101, 102]));
    assert.equal(tree.get(50).stopped, false);
    assert.ok(h.stats().stopped);
    await h.release();
    assert.equal(h.stats().stopped, false);
    for (const pid of [100, 101, 102]) assert.equal(tree.get(pid).stopped, false, `pid ${pid}`);
  });

  it('also stops a child forked while the tree was being stopped', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, pgid: 100, rate: 1 });
    const signal = tree.signal;
    let forked = false;
    const racy = (pid: number, sig: NodeJS.Signals) => {
      const r = signal(pid, sig);
      // The fork lands between the sample and the signal: the child was not in the sample.
      if (sig === 'SIGSTOP' && !forked) {
        forked = true;
        tree.add({ pid: 200, ppid: 100, pgid: 200, rate: 1 });
      }
      return r;
    };
    const limiter2 = new UserspaceLimiter({ sampler: tree, signal: racy, clock });
    void limiter;
    const h = limiter2.apply({ cpus: 0.5 });
    h.assign(100);
    await clock.advance(600);
    assert.equal(tree.get(200).stopped, true);
    await h.release();
    assert.equal(tree.get(200).stopped, false);
  });

  it('resumes a stopped tree at once when released in the middle of a pause', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, pgid: 100, rate: 1 });
    const h = limiter.apply({ cpus: 0.1 });
    h.assign(100);
    await clock.advance(700); // stopped at 500 for (500 - 50) / 0.1 = 4500 ms
    assert.equal(tree.get(100).stopped, true);
    assert.equal(clock.held, 1, 'a pause keeps the process alive');
    await h.release();
    assert.equal(tree.get(100).stopped, false);
    assert.equal(clock.held, 0);
    assert.equal(clock.now(), 700, 'release did not wait for the pause to end');
    await h.release(); // twice is safe
    const before = tree.samples;
    await clock.advance(5_000);
    assert.equal(tree.samples, before, 'no sampling after release');
  });
});

describe('UserspaceLimiter: the tree it watches', () => {
  it('lets go of a root whose pid was reused by a younger process, never signalling it', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, pgid: 100, rate: 0.1, startTime: 'a' });
    const h = limiter.apply({ cpus: 0.5, memoryBytes: 100 * MiB });
    h.assign(100);
    await clock.advance(1_000);
    // The sandbox's root exits; an unrelated, busy, big process gets its pid.
    tree.procs.delete(100);
    tree.add({ pid: 100, pgid: 100, rate: 1, rssBytes: 500 * MiB, startTime: 'b' });
    await clock.advance(5_000);
    assert.deepEqual(tree.signals, []);
    assert.equal(h.stats().killed, null);
    await h.release();
  });
});

describe('UserspaceLimiter: memory watchdog', () => {
  it('kills the whole tree within one interval of its RSS crossing the limit', async () => {
    const { clock, tree, limiter } = setup();
    tree
      .add({ pid: 100, pgid: 100, rssBytes: 40 * MiB })
      .add({ pid: 101, ppid: 100, pgid: 100, rssBytes: 40 * MiB });
    const h = limiter.apply({ memoryBytes: 100 * MiB });
    const kills: KillEvent[] = [];
    h.onKill((e) => kills.push(e));
    h.assign(100);
    await clock.advance(1_234);
    assert.equal(kills.length, 0, 'under the limit: 80 MiB');
    tree.set(101, { rssBytes: 70 * MiB }); // the tree now holds 110 MiB
    await clock.advance(500);
    assert.equal(kills.length, 1);
    const [kill] = kills;
    assert.equal(kill?.reason, 'memory');
    assert.equal(kill?.rssBytes, 110 * MiB);
    assert.ok(kill && kill.atMs - 1_234 <= 500, `killed ${kill?.atMs}`);
    assert.equal(tree.procs.size, 0, 'every process is gone');
    assert.ok(tree.signals.some((s) => s.pid === -100 && s.signal === 'SIGKILL'));
    assert.equal(h.stats().killed?.reason, 'memory');
    assert.equal(h.stats().peakMemoryBytes, 110 * MiB);
    await h.release();
  });

  it('checks memory at once when a process is assigned', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, rssBytes: 300 * MiB });
    const h = limiter.apply({ memoryBytes: 100 * MiB });
    h.assign(100);
    await clock.advance(0);
    assert.equal(h.stats().killed?.atMs, 0);
    await h.release();
  });

  it('retries after a failed sample instead of giving up', async () => {
    const { clock, tree, limiter } = setup();
    tree.add({ pid: 100, rssBytes: 10 * MiB });
    tree.failNext = true;
    const h = limiter.apply({ memoryBytes: 100 * MiB });
    h.assign(100);
    await clock.advance(100);
    tree.set(100, { rssBytes: 200 * MiB });
    await clock.advance(500);
    assert.equal(h.stats().killed?.reason, 'memory');
  });
});

describe('UserspaceLimiter: what it refuses', () => {
  it('refuses a pids limit with the reason and the fix', () => {
    const { limiter } = setup();
    assert.throws(
      () => limiter.apply({ pids: 64 }),
      (err: unknown) =>
        err instanceof UnsupportedError &&
        /pids/.test(err.message) &&
        /cgroup pids controller/.test(err.message),
    );
  });

  it('refuses limits it does not know and malformed values, naming them', () => {
    const { limiter } = setup();
    assert.throws(
      () => limiter.apply({ diskReadBps: 5 } as never),
      (err: unknown) => err instanceof ConfigError && /diskReadBps/.test(err.message),
    );
    assert.throws(
      () => limiter.apply({ cpus: 0 }),
      (err: unknown) => err instanceof ConfigError && err.field === 'cpus',
    );
    assert.throws(
      () => limiter.apply({ memoryBytes: 1000 }),
      (err: unknown) => err instanceof ConfigError && err.field === 'memoryBytes',
    );
    assert.throws(
      () => limiter.apply({ intervalMs: 1 }),
      (err: unknown) => err instanceof ConfigError && err.field === 'intervalMs',
    );
  });

  it('defaults to a 500 ms interval', () => {
    const { limiter } = setup();
    assert.equal(limiter.apply({ cpus: 1 }).config.intervalMs, 500);
  });
});
