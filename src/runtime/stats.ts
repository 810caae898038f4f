import { setTimeout as sleep } from 'node:timers/promises';
import { StateError } from '../errors.js';
import type { RuntimeContext } from './context.js';
import type { DriverStats } from './driver.js';
import type { ContainerStats, RunRecord } from './types.js';
import { deriveState } from './view.js';

export interface StatsOptions {
  /** Interval over which CPU percent is measured (stats) or between samples (stream). */
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
}

interface Sample {
  readonly run: RunRecord;
  readonly stats: DriverStats | undefined;
  readonly wallMs: number;
}

function sample(ctx: RuntimeContext, name: string): Sample | undefined {
  const c = ctx.load(name);
  const state = deriveState(ctx, c);
  const run = c.state?.run;
  if ((state.status !== 'running' && state.status !== 'stopping') || !run) return undefined;
  return { run, stats: ctx.driver.stats(run), wallMs: performance.now() };
}

function combine(name: string, before: Sample, after: Sample): ContainerStats {
  const s = after.stats;
  const a = before.stats?.cpuUsageUs;
  const b = s?.cpuUsageUs;
  const wall = after.wallMs - before.wallMs;
  const cpuPercent =
    a != null && b != null && wall > 0 && before.run.id === after.run.id
      ? Math.round(((b - a) / 1000 / wall) * 1000) / 10
      : null;
  const cpuMs =
    s?.cpuUserMs != null && s.cpuSystemMs != null
      ? Math.round(s.cpuUserMs + s.cpuSystemMs)
      : b != null
        ? Math.round(b / 1000)
        : null;
  return {
    name,
    cpuUserMs: s?.cpuUserMs ?? null,
    cpuSystemMs: s?.cpuSystemMs ?? null,
    cpuMs,
    cpuPercent,
    memoryBytes: s?.memoryBytes ?? null,
    peakMemoryBytes: s?.peakMemoryBytes ?? null,
    memoryLimitBytes: s?.memoryLimitBytes ?? null,
    pids: s?.pids ?? null,
    at: new Date().toISOString(),
  };
}

/** One reading of a running container's cgroup, CPU percent measured over `intervalMs` (default 200). */
export async function readStats(
  ctx: RuntimeContext,
  name: string,
  options: StatsOptions = {},
): Promise<ContainerStats> {
  const first = sample(ctx, name);
  if (!first) throw notRunning(ctx, name);
  await sleep(options.intervalMs ?? 200);
  const second = sample(ctx, name);
  if (!second) throw notRunning(ctx, name);
  return combine(name, first, second);
}

/** A reading every `intervalMs` (default 1000) until the container stops or `signal` aborts. */
export async function* streamStats(
  ctx: RuntimeContext,
  name: string,
  options: StatsOptions = {},
): AsyncGenerator<ContainerStats> {
  let prev = sample(ctx, name);
  if (!prev) throw notRunning(ctx, name);
  while (!options.signal?.aborted) {
    try {
      await sleep(options.intervalMs ?? 1000, undefined, options.signal ? { signal: options.signal } : {});
    } catch {
      return;
    }
    const next = sample(ctx, name);
    if (!next) return;
    yield combine(name, prev, next);
    prev = next;
  }
}

function notRunning(ctx: RuntimeContext, name: string): StateError {
  const status = deriveState(ctx, ctx.load(name)).status;
  return new StateError(`no stats for ${name}: it is not running (${status})`, { name, status });
}
