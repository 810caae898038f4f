import assert from 'node:assert/strict';
import { spawn as spawnChild } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { run, spawn } from '../../src/index.js';
import { cgroupsMissing, hostPidsWith, linuxSandboxMissing } from '../helpers/host.js';
import { requireOrSkip } from '../helpers/integration.js';
import { LIBRARY_KINDS, type FaultKind } from './fault/kinds.js';
import { count, hostMounts, leftovers, runCgroupsOf } from './fault/leftovers.js';

const RUNS = Number(process.env.CORRAL_FAULT_RUNS ?? 500);
const HANG = path.resolve(import.meta.dirname, '../fixtures/run-and-hang.mts');
const RUN_SPEC = path.resolve(import.meta.dirname, '../fixtures/run-spec.mts');

/** A small seeded generator, so a failing mix can be replayed with CORRAL_FAULT_SEED. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (check()) return true;
  return check();
}

describe('fault battery: runs that end every way there is leave nothing behind', () => {
  it(`runs ${RUNS} mixed runs and finds no process, cgroup, mount or temporary file left`, async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const seed = Number(process.env.CORRAL_FAULT_SEED ?? Date.now() % 1_000_000);
    const rand = random(seed);
    const tag = `corral-fault-${process.pid}-${seed}`;
    const tmp = mkdtempSync(path.join(tmpdir(), 'corral-fault-tmp-'));
    const env = { ...process.env, TMPDIR: tmp };
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    const mountsBefore = hostMounts();
    const owners = new Set<number>([process.pid]);
    const tally = new Map<string, number>();
    const wrong: string[] = [];

    /** The corral process itself SIGKILLed: before, during or after starting its sandbox. */
    async function corralKilled(i: number): Promise<string | undefined> {
      const runTag = `${tag}-${i}`;
      const child = spawnChild(process.execPath, ['--import', 'tsx', HANG, runTag], {
        stdio: ['ignore', 'pipe', 'ignore'],
        env,
      });
      owners.add(child.pid ?? -1);
      if (rand() < 0.5) await sleep(rand() * 500);
      else
        await Promise.race([once(child.stdout, 'data'), once(child, 'exit')]).then(() => sleep(rand() * 30));
      child.kill('SIGKILL');
      await once(child, 'close');
      return (await until(() => hostPidsWith(runTag).length === 0, 3000))
        ? undefined
        : `survivors ${hostPidsWith(runTag).join(',')}`;
    }
    /** Killed from outside while it runs, through its handle. */
    async function killedOutside(i: number): Promise<string | undefined> {
      const proc = spawn(
        { command: ['sh', '-c', 'sleep 30', `${tag}-${i}`] },
        { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
      );
      await proc.start();
      await sleep(rand() * 50);
      proc.kill();
      const r = await proc.wait();
      return r.reason === 'signal' && r.signal === 'SIGKILL' ? undefined : JSON.stringify(r);
    }
    /** Abandoned by its caller through an AbortSignal, at any moment. */
    async function aborted(i: number): Promise<string | undefined> {
      const ac = new AbortController();
      const pending = run({ command: ['sh', '-c', 'sleep 30', `${tag}-${i}`] }, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('abandoned')), rand() * 100);
      return pending.then(
        (r) => `finished instead of rejecting: ${JSON.stringify(r)}`,
        (e: Error) => (/abandoned/.test(e.message) ? undefined : e.message),
      );
    }
    const special: FaultKind[] = [
      { name: 'killed-from-outside', share: 5, spec: () => ({ command: ['true'] }), check: () => undefined },
      { name: 'aborted', share: 5, spec: () => ({ command: ['true'] }), check: () => undefined },
      { name: 'corral-sigkilled', share: 10, spec: () => ({ command: ['true'] }), check: () => undefined },
    ];
    const kinds = [...LIBRARY_KINDS, ...special];
    assert.equal(
      kinds.reduce((n, k) => n + k.share, 0),
      100,
    );
    // Each kind gets its share of the runs (rounding is made up with normal runs), in a seeded order.
    const plan: FaultKind[] = kinds.flatMap((k) =>
      Array<FaultKind>(Math.round((k.share * RUNS) / 100)).fill(k),
    );
    plan.length = Math.min(plan.length, RUNS);
    while (plan.length < RUNS) plan.push(kinds[0] as FaultKind);
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [plan[i], plan[j]] = [plan[j] as FaultKind, plan[i] as FaultKind];
    }

    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = next++; i < plan.length; i = next++) {
          const kind = plan[i] as FaultKind;
          tally.set(kind.name, (tally.get(kind.name) ?? 0) + 1);
          let problem: string | undefined;
          try {
            if (kind.name === 'corral-sigkilled') problem = await corralKilled(i);
            else if (kind.name === 'killed-from-outside') problem = await killedOutside(i);
            else if (kind.name === 'aborted') problem = await aborted(i);
            else problem = kind.check(await run(kind.spec(`${tag}-${i}`, i)), i);
          } catch (err) {
            problem = `threw ${(err as Error).message}`;
          }
          if (problem) wrong.push(`#${i} ${kind.name}: ${problem}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;

    // The next corral process collects the cgroups of the corral processes that were killed.
    const stale = runCgroupsOf(owners).length;
    const gc = spawnChild(
      process.execPath,
      ['--import', 'tsx', RUN_SPEC, JSON.stringify({ command: ['true'] })],
      { stdio: 'ignore', env },
    );
    await once(gc, 'close');
    owners.add(gc.pid ?? -1);
    await until(() => count(leftovers(tag, owners, mountsBefore, tmp)) === 0, 3000);
    const left = leftovers(tag, owners, mountsBefore, tmp);
    process.env.TMPDIR = savedTmp;
    rmSync(tmp, { recursive: true, force: true });

    t.diagnostic(
      `seed ${seed}; ${plan.length} runs in ${seconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries(tally))}`,
    );
    t.diagnostic(`stale cgroups of killed corral processes, for the next run to collect: ${stale}`);
    t.diagnostic(
      `leftovers: ${JSON.stringify({ ...left, total: count(left) })}; unexpected results: ${wrong.length}`,
    );
    assert.equal(plan.length, RUNS);
    assert.deepEqual(wrong, [], 'every run ends the way its kind says');
    assert.deepEqual(left, { processes: [], cgroups: [], mounts: [], tempEntries: [] });
  });
});
