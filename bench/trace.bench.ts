/**
 * `npm run bench:trace`: a burst of short-lived execs inside one sandbox, run with and without
 * the exec tracer, interleaved in the same process. Reports how many execs the tracer saw, for
 * how many it captured the exact argv, and what tracing costs in time.
 *
 * Environment: BENCH_EXECS (default 1000), BENCH_REPS (default 10), BENCH_BACKEND (default: best),
 * BENCH_REALTIME=0 (proc connector capture at normal priority), BENCH_DIST=1 (the built package).
 */
import { readFileSync } from 'node:fs';
import type * as Corral from '../src/index.js';
import type { RunResult } from '../src/index.js';
import type { ExecEvent } from '../src/trace/types.js';
import { intervalText, median } from './stats.js';

// BENCH_DIST=1 measures the built package (npm run build first).
const lib = (
  process.env.BENCH_DIST === '1' ? await import(String('../dist/index.js')) : await import('../src/index.js')
) as typeof Corral;
const { createTracer, EbpfTracer, ProcConnectorTracer, run } = lib;

const EXECS = Number(process.env.BENCH_EXECS ?? 1000);
const REPS = Number(process.env.BENCH_REPS ?? 10);
const BACKEND = process.env.BENCH_BACKEND;

// The shell times its own loop, so the figure is the burst alone, not sandbox set-up.
const SCRIPT = `s=$(date +%s%N); for i in $(seq ${EXECS}); do /bin/true a$i; done; e=$(date +%s%N); echo $(( (e - s) / 1000 ))`;

interface Sample {
  readonly burstMs: number;
  readonly runMs: number;
  /** CPU time of this corral process (all its threads) during the run. */
  readonly cpuMs: number;
  /** CPU time of the proc connector's capture process (it sees the whole host's events). */
  readonly captureCpuMs?: number;
  readonly execs?: number;
  readonly trueSeen?: number;
  readonly trueWithArgv?: number;
  readonly lost?: number;
}

/** utime + stime of a process in ms (clock ticks of 10 ms), or undefined once it is gone. */
function cpuOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
}

async function once(traced: boolean): Promise<Sample> {
  // Counted as they come, not kept: a consumer holding thousands of events would charge its own
  // garbage collection (V8's helper threads take the second core) to the tracer.
  let execs = 0;
  let trueSeen = 0;
  const exact = new Set<number>();
  const count = (e: ExecEvent) => {
    execs++;
    // An exec of /bin/true is recognised by its argv, or (argv lost) by the kernel's name for it.
    if (!(e.args ? e.command === '/bin/true' : e.command === 'true')) return;
    trueSeen++;
    const m = e.args?.length === 1 ? /^a(\d+)$/.exec(e.args[0] as string) : null;
    if (m) exact.add(Number(m[1]));
  };
  const tracer = traced
    ? await createTracer({
        ...(BACKEND !== undefined && { backend: BACKEND }),
        ...(process.env.BENCH_REALTIME === '0' && { realtime: false }),
      })
    : undefined;
  // The capture ends with the run: its CPU is sampled while it lives. Rarely: each sample wakes
  // this process, and only the traced arm has a sampler, so it must not be a cost of its own
  // (the last quarter second of the capture's CPU is missed).
  let captureCpuMs: number | undefined;
  const sampler = setInterval(() => {
    if (!(tracer instanceof ProcConnectorTracer || tracer instanceof EbpfTracer)) return;
    captureCpuMs = cpuOf(tracer.capturePid) ?? captureCpuMs;
  }, 250);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const r: RunResult = await run(
    { command: ['sh', '-c', SCRIPT] },
    tracer
      ? {
          trace: {
            tracer,
            onEvent: (e) => {
              if (e.type === 'exec') count(e);
            },
          },
        }
      : {},
  );
  clearInterval(sampler);
  const runMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  if (r.exitCode !== 0) throw new Error(`burst failed: exit ${r.exitCode} ${r.stderr ?? ''}`);
  const burstMs = Number(r.stdout?.trim()) / 1000;
  if (!traced) return { burstMs, runMs, cpuMs };
  return {
    burstMs,
    runMs,
    cpuMs,
    ...(captureCpuMs !== undefined && { captureCpuMs }),
    execs,
    trueSeen,
    trueWithArgv: exact.size,
    lost: r.trace?.lost ?? 0,
  };
}

const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(2)}%`;

const backendName = (await createTracer(BACKEND === undefined ? {} : { backend: BACKEND })).backend;
console.log(
  `bench:trace: ${EXECS} execs of /bin/true per burst, ${REPS} repetitions, interleaved; tracer ${backendName}`,
);
await once(true); // warm-up: page cache, the tracer's code
await once(false);
const plain: Sample[] = [];
const traced: Sample[] = [];
for (let i = 0; i < REPS; i++) {
  // Alternate which goes first, so drift in host load hits both the same.
  const order = i % 2 === 0 ? [false, true] : [true, false];
  for (const t of order) (t ? traced : plain).push(await once(t));
}

const expected = EXECS + 4; // the trues, plus sh, seq and the two date calls
for (const [i, s] of traced.entries()) {
  console.log(
    `  rep ${i + 1}: exec events ${s.execs}/${expected}, /bin/true recognised ${s.trueSeen}/${EXECS}, exact argv ${s.trueWithArgv}/${EXECS}, burst ${s.burstMs.toFixed(1)} ms (untraced ${plain[i]?.burstMs.toFixed(1)} ms)${s.lost ? `, LOST ${s.lost}` : ''}`,
  );
}
const sum = (f: (s: Sample) => number) => traced.reduce((a, s) => a + f(s), 0);
const execs = sum((s) => s.execs ?? 0);
const withArgv = sum((s) => s.trueWithArgv ?? 0);
const total = EXECS * REPS;
const med = (xs: Sample[], f: (s: Sample) => number) => median(xs.map(f));
// Each traced run is paired with the untraced run next to it in time: the ratio of a pair is
// barely touched by slow drifts in the host's load, which the two medians are not.
const ratios = traced.map((s, i) => s.burstMs / (plain[i] as Sample).burstMs);
const paired = median(ratios);
// One pair's ratio moves by several percent with the host's load: say how sure the median is.
const interval = intervalText(ratios);
console.log(
  `exec events captured:   ${execs}/${expected * REPS} (${pct(execs, expected * REPS)})   target 100%`,
);
console.log(
  `argv captured exactly:  ${withArgv}/${total} /bin/true execs (${pct(withArgv, total)})   target >= 99%`,
);
console.log(
  `burst median: untraced ${med(plain, (s) => s.burstMs).toFixed(1)} ms, traced ${med(traced, (s) => s.burstMs).toFixed(1)} ms: ${(med(traced, (s) => s.burstMs) / med(plain, (s) => s.burstMs)).toFixed(3)}x; median of paired ratios ${paired.toFixed(3)}x${interval}   target <= 1.1x`,
);
console.log(
  `whole run median (incl. sandbox set-up, tracer start/stop): untraced ${med(plain, (s) => s.runMs).toFixed(1)} ms, traced ${med(traced, (s) => s.runMs).toFixed(1)} ms: ${(med(traced, (s) => s.runMs) / med(plain, (s) => s.runMs)).toFixed(3)}x`,
);
const captureCpu = traced.flatMap((s) => (s.captureCpuMs === undefined ? [] : [s.captureCpuMs]));
console.log(
  `CPU per run: corral untraced ${med(plain, (s) => s.cpuMs).toFixed(1)} ms, traced ${med(traced, (s) => s.cpuMs).toFixed(1)} ms${captureCpu.length ? `; the tracer's capture process ${median(captureCpu).toFixed(0)} ms (incl. its start, and every host event meanwhile)` : ''}`,
);
