import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { run, type RunResult } from '../../src/index.js';
import { findHostTool } from '../../src/platform/linux/host-tools.js';
import { cgroupsMissing, isRoot, linuxSandboxMissing } from '../helpers/host.js';
import { requireOrSkip } from '../helpers/integration.js';
import { DESCRIPTOR_ATTEMPTS } from './battery/attempts-descriptors.js';
import { FILESYSTEM_ATTEMPTS } from './battery/attempts-filesystem.js';
import { KERNEL_ATTEMPTS } from './battery/attempts-kernel.js';
import { NETWORK_ATTEMPTS } from './battery/attempts-network.js';
import { PROCESS_ATTEMPTS } from './battery/attempts-processes.js';
import { RESOURCE_ATTEMPTS } from './battery/attempts-resources.js';
import { SECRET_ATTEMPTS } from './battery/attempts-secrets.js';
import { TERMINAL_ATTEMPTS } from './battery/attempts-terminal.js';
import { HostFixture } from './battery/host-fixture.js';
import type { Attempt, Verdict } from './battery/types.js';

/** Attempts that share the machine well run four at a time; the exhausting ones one by one. */
const PARALLEL = [
  ...SECRET_ATTEMPTS,
  ...FILESYSTEM_ATTEMPTS,
  ...KERNEL_ATTEMPTS,
  ...PROCESS_ATTEMPTS,
  ...NETWORK_ATTEMPTS,
  ...DESCRIPTOR_ATTEMPTS,
  ...TERMINAL_ATTEMPTS,
];
const SEQUENTIAL = RESOURCE_ATTEMPTS;

interface Record extends Verdict {
  readonly id: string;
  readonly category: string;
  readonly attempted: string;
}

function missing(): string | undefined {
  return (
    linuxSandboxMissing() ??
    cgroupsMissing() ??
    (isRoot ? undefined : 'the battery plants secrets in /root and /home: run it as root') ??
    ['python3', 'gcc', 'unshare', 'nsenter', 'script']
      .map((t) => (findHostTool(t) ? undefined : `${t} is not installed`))
      .find(Boolean)
  );
}

describe('escape battery: an attacker with a shell in a sandbox with default options', () => {
  const host = new HostFixture();
  const records: Record[] = [];

  before(async () => {
    if (!missing()) await host.setup();
  });
  after(async () => {
    await host.teardown();
  });

  async function attempt(a: Attempt): Promise<Record> {
    const spec = a.spec(host);
    let verdict: Verdict;
    try {
      const result: RunResult = a.run ? await a.run(spec, host) : await run(spec);
      verdict = await a.judge(result, host);
    } catch (err) {
      verdict = { outcome: 'did-not-run', evidence: `corral failed to run it: ${(err as Error).message}` };
    }
    const rec = { id: a.id, category: a.category, attempted: a.title, ...verdict };
    records.push(rec);
    return rec;
  }

  it('contains every attempt, and records what each tried and what happened', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const queue = [...PARALLEL];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let a = queue.shift(); a; a = queue.shift()) await attempt(a);
      }),
    );
    for (const a of SEQUENTIAL) await attempt(a);

    const count = (o: Verdict['outcome']) => records.filter((r) => r.outcome === o).length;
    const summary = {
      attempts: records.length,
      contained: count('contained'),
      escapes: count('escaped'),
      didNotRun: count('did-not-run'),
    };
    for (const r of records) t.diagnostic(`${r.outcome.padEnd(11)} ${r.id}: ${r.attempted} -- ${r.evidence}`);
    t.diagnostic(`battery: ${JSON.stringify(summary)}`);
    if (process.env.CORRAL_BATTERY_REPORT)
      writeFileSync(process.env.CORRAL_BATTERY_REPORT, `${JSON.stringify({ summary, records }, null, 2)}\n`);

    assert.ok(records.length >= 30, `only ${records.length} attempts`);
    const failed = records.filter((r) => r.outcome !== 'contained');
    assert.deepEqual(
      failed.map((r) => `${r.outcome}: ${r.id}: ${r.evidence}`),
      [],
      'every attempt must run and be contained',
    );
  });
});
