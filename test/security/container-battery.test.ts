import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { findHostTool } from '../../src/platform/linux/host-tools.js';
import { cgroupsMissing, isRoot, linuxSandboxMissing } from '../helpers/host.js';
import { requireOrSkip } from '../helpers/integration.js';
import { hostRuntime } from '../helpers/runtime-host.js';
import { FILESYSTEM_ATTEMPTS } from './battery/attempts-filesystem.js';
import { KERNEL_ATTEMPTS } from './battery/attempts-kernel.js';
import { LIFECYCLE_ATTEMPTS } from './battery/attempts-lifecycle.js';
import { NETWORK_ATTEMPTS } from './battery/attempts-network.js';
import { PROCESS_ATTEMPTS } from './battery/attempts-processes.js';
import { SECRET_ATTEMPTS } from './battery/attempts-secrets.js';
import { asContainerCommand, viaExec, type ContainerRun } from './battery/containers.js';
import { HostFixture } from './battery/host-fixture.js';
import type { Attempt, Verdict } from './battery/types.js';

/**
 * The run battery's attempts (all but those that need a runner of their own: a leaked descriptor
 * and a real terminal, which lifecycle attempts cover for the CLI, and the resource exhaustion
 * ones, the same cgroup and rlimits), made through the lifecycle commands with default options.
 * Through exec, all but outliving the command: an exec'd daemon lives as long as its container,
 * and `survive-rm` and `survive-stop` are the test of that.
 */
const AS_COMMAND: Attempt[] = [
  ...SECRET_ATTEMPTS,
  ...FILESYSTEM_ATTEMPTS,
  ...KERNEL_ATTEMPTS,
  ...PROCESS_ATTEMPTS,
  ...NETWORK_ATTEMPTS,
].filter((a) => !a.run);
const VIA_EXEC = AS_COMMAND.filter((a) => a.category !== 'surviving the run');

interface Record extends Verdict {
  readonly id: string;
  readonly category: string;
  readonly attempted: string;
}

function missing(): string | undefined {
  return (
    linuxSandboxMissing() ??
    cgroupsMissing() ??
    (isRoot ? undefined : 'exec and the planted secrets need root') ??
    ['python3', 'gcc', 'unshare', 'nsenter']
      .map((t) => (findHostTool(t) ? undefined : `${t} is not installed`))
      .find(Boolean)
  );
}

describe('escape battery through the lifecycle: create, start, exec, stop and rm with default options', () => {
  const host = new HostFixture();
  let env: ReturnType<typeof hostRuntime> | undefined;
  const records: Record[] = [];

  before(async () => {
    if (missing()) return;
    await host.setup();
    env = hostRuntime('corral-battery-rt-');
  });
  after(async () => {
    await env?.cleanup();
    await host.teardown();
  });

  async function made(mode: 'command' | 'exec', a: Attempt, how: typeof asContainerCommand): Promise<void> {
    const rt = env?.rt;
    if (!rt) return;
    let verdict: Verdict;
    let ran: ContainerRun | undefined;
    try {
      ran = await how(rt, a.spec(host));
      // Judged while the container is still there: outliving the command must fail on its own.
      verdict = await a.judge(ran.result, host);
    } catch (err) {
      verdict = { outcome: 'did-not-run', evidence: `corral failed to run it: ${(err as Error).message}` };
    } finally {
      if (ran) await rt.remove(ran.name, { force: true }).catch(() => undefined);
    }
    records.push({ id: `${mode}:${a.id}`, category: a.category, attempted: a.title, ...verdict });
  }

  it('contains every attempt, made as a container’s command, through exec, and against rm and stop', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const rt = env?.rt;
    assert.ok(rt);
    const jobs: (() => Promise<void>)[] = [
      ...AS_COMMAND.map((a) => () => made('command', a, asContainerCommand)),
      ...VIA_EXEC.map((a) => () => made('exec', a, viaExec)),
      ...LIFECYCLE_ATTEMPTS.map((l) => async () => {
        let verdict: Verdict;
        try {
          verdict = await l.attempt({ rt, host });
        } catch (err) {
          verdict = { outcome: 'did-not-run', evidence: `corral failed: ${(err as Error).message}` };
        }
        records.push({ id: `lifecycle:${l.id}`, category: l.category, attempted: l.title, ...verdict });
      }),
    ];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let job = jobs.shift(); job; job = jobs.shift()) await job();
      }),
    );
    const seconds = (performance.now() - started) / 1000;

    const count = (o: Verdict['outcome']) => records.filter((r) => r.outcome === o).length;
    const summary = {
      attempts: records.length,
      contained: count('contained'),
      escapes: count('escaped'),
      didNotRun: count('did-not-run'),
      seconds: Number(seconds.toFixed(1)),
    };
    for (const r of records) t.diagnostic(`${r.outcome.padEnd(11)} ${r.id}: ${r.attempted} -- ${r.evidence}`);
    // Everything the battery's containers had: processes, cgroups, mounts, directories.
    const left = env?.leftovers() ?? [];
    t.diagnostic(`container battery: ${JSON.stringify(summary)}; leftovers: ${JSON.stringify(left)}`);
    if (process.env.CORRAL_CONTAINER_BATTERY_REPORT)
      writeFileSync(
        process.env.CORRAL_CONTAINER_BATTERY_REPORT,
        `${JSON.stringify({ summary, records, leftovers: left }, null, 2)}\n`,
      );

    assert.ok(records.length >= 80, `only ${records.length} attempts`);
    assert.deepEqual(
      records.filter((r) => r.outcome !== 'contained').map((r) => `${r.outcome}: ${r.id}: ${r.evidence}`),
      [],
      'every attempt must run and be contained',
    );
    assert.deepEqual(left, [], 'nothing of any container is left');
  });
});
