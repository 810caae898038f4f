import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupsMissing, hostPidsWith, linuxSandboxMissing, orphanedTracerHelpers } from '../helpers/host.js';
import { requireOrSkip } from '../helpers/integration.js';
import { hostRuntime } from '../helpers/runtime-host.js';
import { CONTAINER_FAULTS, type ContainerFault } from './fault/container-kinds.js';

const RUNS = Number(process.env.CORRAL_CONTAINER_FAULT_RUNS ?? 100);

/** The same seeded generator as the run fault battery: replay a mix with CORRAL_FAULT_SEED. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fault battery for containers: lives that end every way, corral killed mid-operation', () => {
  it(`runs ${RUNS} container lives and finds no process, cgroup, mount or directory left`, async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const seed = Number(process.env.CORRAL_FAULT_SEED ?? Date.now() % 1_000_000);
    const rand = random(seed);
    // In every container name (so in its cgroups' names) and on every command line it runs.
    const tag = `cfb-${process.pid}-${seed}`;
    const env = hostRuntime('corral-cfault-');
    const tally = new Map<string, number>();
    const found = new Map<string, number>();
    const wrong: string[] = [];
    try {
      assert.equal(
        CONTAINER_FAULTS.reduce((n, k) => n + k.share, 0),
        100,
      );
      const plan: ContainerFault[] = CONTAINER_FAULTS.flatMap((k) =>
        Array<ContainerFault>(Math.round((k.share * RUNS) / 100)).fill(k),
      );
      plan.length = Math.min(plan.length, RUNS);
      while (plan.length < RUNS) plan.push(CONTAINER_FAULTS[0] as ContainerFault);
      for (let i = plan.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [plan[i], plan[j]] = [plan[j] as ContainerFault, plan[i] as ContainerFault];
      }

      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = next++; i < plan.length; i = next++) {
            const kind = plan[i] as ContainerFault;
            tally.set(kind.name, (tally.get(kind.name) ?? 0) + 1);
            const name = `${tag}-${i}`;
            let problem: string | undefined;
            try {
              problem = await kind.run({
                rt: env.rt,
                name,
                tag: `${tag}-${i}`,
                rand,
                note: (what) =>
                  found.set(`${kind.name} ${what}`, (found.get(`${kind.name} ${what}`) ?? 0) + 1),
              });
            } catch (err) {
              problem = `threw ${(err as Error).message}`;
            }
            if (problem) wrong.push(`#${i} ${kind.name}: ${problem}`);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;

      // Traced lives also leave nothing: no recorder (found by name) or capture.
      const census = () => [
        ...env.leftovers(tag),
        ...orphanedTracerHelpers().map((p) => `process ${p} (an orphaned tracer helper)`),
      ];
      for (let i = 0; i < 100 && census().length > 0; i++) await sleep(30);
      const left = census();
      t.diagnostic(
        `seed ${seed}; ${plan.length} container lives in ${seconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries(tally))}`,
      );
      const findings = Object.fromEntries([...found].sort());
      t.diagnostic(`after a killed corral, the next command found: ${JSON.stringify(findings)}`);
      t.diagnostic(
        `leftovers: ${JSON.stringify(left)} (total ${left.length}); unexpected results: ${wrong.length}`,
      );
      assert.equal(plan.length, RUNS);
      assert.deepEqual(wrong, [], 'every life ends the way its kind says, and the next command recovers it');
      assert.deepEqual(left, [], 'no process, cgroup, mount, holder or directory of any container is left');
      assert.deepEqual(hostPidsWith(tag), []);
    } finally {
      await env.cleanup();
    }
  });
});
