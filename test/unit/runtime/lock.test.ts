import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError } from '../../../src/errors.js';
import { ContainerLock } from '../../../src/runtime/lock.js';
import type { ProcRef } from '../../../src/runtime/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function lockDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'corral-lock-'));
  dirs.push(d);
  return path.join(d, 'lock');
}
const self: ProcRef = { pid: process.pid, start: '100' };
const dead = new Set<string>();
const alive = (r: ProcRef) => !dead.has(`${r.pid}-${r.start}`);

describe('ContainerLock', () => {
  it('lets only one of many concurrent contenders hold the lock at a time', async () => {
    const dir = lockDir();
    let inside = 0;
    let maxInside = 0;
    let entered = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const lock = await ContainerLock.acquire(dir, 'op', { self, alive, timeoutMs: 10_000 });
        inside++;
        entered++;
        maxInside = Math.max(maxInside, inside);
        await sleep(1);
        inside--;
        lock.release();
      }),
    );
    assert.equal(entered, 20);
    assert.equal(maxInside, 1);
  });

  it('takes over a lock whose holder died (SIGKILL) without waiting', async () => {
    const dir = lockDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '4242-7-abc123'), JSON.stringify({ op: 'start', since: 'then' }));
    dead.add('4242-7');
    const t0 = performance.now();
    const lock = await ContainerLock.acquire(dir, 'stop', { self, alive, timeoutMs: 5000 });
    assert.ok(performance.now() - t0 < 500);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('4242-')),
      [],
      'the stale entry is gone',
    );
    lock.release();
  });

  it('times out on a live holder with E_LOCKED naming it and its operation', async () => {
    const dir = lockDir();
    const held = await ContainerLock.acquire(dir, 'stop', {
      self: { pid: 777, start: '5' },
      alive,
      timeoutMs: 0,
    });
    await assert.rejects(
      ContainerLock.acquire(dir, 'rm', { self, alive, timeoutMs: 100 }),
      (e) => e instanceof CorralError && e.code === 'E_LOCKED' && /pid 777 .*"stop"/.test(e.message),
    );
    held.release();
    (await ContainerLock.acquire(dir, 'rm', { self, alive, timeoutMs: 0 })).release();
  });

  it('lists live holders with their operation, and releases through dispose', async () => {
    const dir = lockDir();
    {
      using _l = await ContainerLock.acquire(dir, 'start', { self, alive });
      const h = ContainerLock.holders(dir, alive);
      assert.equal(h.length, 1);
      assert.equal(h[0]?.op, 'start');
    }
    assert.deepEqual(ContainerLock.holders(dir, alive), []);
  });
});
