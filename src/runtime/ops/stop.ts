import { watch, type FSWatcher } from 'node:fs';
import { ConfigError, StateError } from '../../errors.js';
import type { Loaded, RuntimeContext } from '../context.js';
import { failpoint } from '../failpoints.js';
import { parseSignal } from '../signals.js';
import { parseDuration } from '../../spec/units.js';
import { writeState } from '../store.js';
import type { RunRecord } from '../types.js';
import { deriveState } from '../view.js';
import { settle } from './settle.js';

export interface StopOptions {
  /**
   * How long the processes get to exit after SIGTERM before SIGKILL: a duration (`'5s'`,
   * `'500ms'`) or milliseconds; 0 kills at once. Default `'10s'` (docker's).
   */
  readonly grace?: string | number;
}

/**
 * Stops a running container: SIGTERM to every process of its tree (not bubblewrap's init, whose
 * death would SIGKILL the rest before they could clean up), SIGKILL to all after the grace
 * period. Stopping a container that is not running does nothing, so it is safe to call twice.
 */
export async function stopContainer(
  ctx: RuntimeContext,
  name: string,
  options: StopOptions = {},
): Promise<void> {
  const graceMs = options.grace === undefined ? 10_000 : parseGrace(options.grace);
  using _lock = await ctx.lock(name, 'stop');
  const loaded = ctx.load(name);
  const state = await settle(ctx, loaded);
  if (state?.status !== 'running' || !state.run) return;
  const c: Loaded = { ...loaded, state };
  const run: RunRecord = { ...state.run, stopRequestedAt: new Date().toISOString() };
  // Only a note for the outcome: not worth an fsync on the way to stopping.
  writeState(c.paths, { ...state, run }, false);
  ctx.driver.signal(run, 'SIGTERM');
  failpoint('stop:signalled');
  if (!(await waitForExit(ctx, c, run, graceMs))) {
    ctx.driver.signal(run, 'SIGKILL');
    await waitForExit(ctx, c, run, 10_000);
  }
  await settle(ctx, { ...c, state: { ...state, run } });
}

/**
 * Sends a signal to every process of a running container (SIGKILL: the whole tree at once).
 * Refused, with the reason, when the container is not running.
 */
export function killContainer(ctx: RuntimeContext, name: string, signal: string | number = 'SIGKILL'): void {
  const sig = parseSignal(signal);
  const c = ctx.load(name);
  const state = deriveState(ctx, c);
  const run = c.state?.run;
  if ((state.status !== 'running' && state.status !== 'stopping') || !run)
    throw new StateError(`cannot kill ${name}: it is not running (${state.status})`, {
      name,
      status: state.status,
    });
  ctx.driver.signal(run, sig);
}

function parseGrace(raw: string | number): number {
  const ms = raw === 0 || raw === '0' ? 0 : parseDuration(raw);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > 24 * 3_600_000)
    throw new ConfigError(
      'grace',
      `stop: the grace period must be a duration from 0 to 24h (e.g. 10s), got ${JSON.stringify(raw)}`,
      {
        value: raw,
      },
    );
  return ms;
}

/** Resolves true once the run has ended, false if it still runs after `ms`. */
export async function waitForExit(
  ctx: RuntimeContext,
  c: Loaded,
  run: RunRecord,
  ms: number,
): Promise<boolean> {
  const ended = () =>
    ctx.driver.readExitCode(c.paths) !== undefined || !run.bwrap || !ctx.driver.alive(run.bwrap);
  if (ended()) return true;
  const deadline = Date.now() + ms;
  // bubblewrap writes the exit code into the status file: inotify wakes us the moment it does.
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(c.paths.status, () => wake?.());
  } catch {
    // no inotify here: the poll below is enough
  }
  try {
    for (let i = 0; ; i++) {
      if (ended()) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(5 + i * 5, 50, left));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    watcher?.close();
  }
}
