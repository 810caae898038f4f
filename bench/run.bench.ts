/**
 * `npm run bench`: the cost of a corral run of /bin/true against bare spawn and raw bubblewrap,
 * interleaved in one process so machine noise hits every case alike. Targets (issue #2):
 * corral <= 1.3x raw bwrap median; the goal is 1.0x (limits and accounting free on top of isolation).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { run } from '../src/index.js';
import { findHostTool } from '../src/platform/linux/host-tools.js';
import { DEFAULT_SANDBOX_ID } from '../src/spec/resolve.js';
import { summarize, table } from './stats.js';

const N = Number(process.env.BENCH_RUNS ?? 200);
const bwrap = findHostTool('bwrap');
if (!bwrap) throw new Error('bubblewrap is not installed');
const root = process.getuid?.() === 0;
const RAW = [
  '--unshare-all',
  '--die-with-parent',
  '--ro-bind',
  '/',
  '/',
  '--dev',
  '/dev',
  '--proc',
  '/proc',
  '/bin/true',
];

async function spawnAndWait(
  file: string,
  args: string[],
  as: { uid?: number; gid?: number } = {},
): Promise<void> {
  const c = spawn(file, args, { stdio: 'ignore', cwd: '/', ...as });
  const [code] = (await once(c, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${file} exited ${code}`);
}

const cases: Record<string, () => Promise<unknown>> = {
  'bare spawn /bin/true': () => spawnAndWait('/bin/true', []),
  'raw bwrap': () => spawnAndWait(bwrap, RAW),
  ...(root && {
    [`raw bwrap as uid ${DEFAULT_SANDBOX_ID}`]: () =>
      spawnAndWait(bwrap, RAW, { uid: DEFAULT_SANDBOX_ID, gid: DEFAULT_SANDBOX_ID }),
  }),
  'corral run (+memory,pids,cpus)': async () => {
    const r = await run(
      { command: ['/bin/true'], limits: { memory: '256Mi', pids: 64, cpus: 1 } },
      { stdout: 'ignore', stderr: 'ignore' },
    );
    if (r.exitCode !== 0 || r.limits.memory?.enforcement !== 'kernel')
      throw new Error(`unexpected result ${JSON.stringify(r)}`);
  },
};

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
// Warm-up: first runs pay for module loading, probes and page cache.
for (const f of Object.values(cases)) for (let i = 0; i < 5; i++) await f();
for (let i = 0; i < N; i++) {
  for (const [name, f] of Object.entries(cases)) {
    const t = performance.now();
    await f();
    samples[name]?.push(performance.now() - t);
  }
}
const rows = Object.entries(samples).map(([name, s]) => ({ name, samples: s }));
console.log(`corral run benchmark: ${N} interleaved runs per case\n`);
console.log(table(rows, 'raw bwrap'));
const corral = summarize(samples['corral run (+memory,pids,cpus)'] ?? []).median;
const raw = summarize(samples['raw bwrap'] ?? []).median;
console.log(`\ncorral / raw bwrap (median): ${(corral / raw).toFixed(2)}x (target <= 1.3x, goal <= 1.0x)`);
