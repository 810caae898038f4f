import { startTimeOf } from '../proc-tree.js';
import type { CgroupDriver } from './types.js';

let counter = 0;
let ownerTag: string | undefined;

/**
 * Run cgroups are named after the corral process that made them (pid and start time), so a
 * later corral can tell which ones belong to a process that died without cleaning up.
 */
export function runCgroupName(kind: 'run' | 'spare' = 'run'): string {
  ownerTag ??= `${process.pid}-${startTimeOf('self') ?? '0'}`;
  return `${kind}-${ownerTag}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs' cgroups, and warm-start spares' (a spare taken by a run keeps its name). */
const RUN_NAME = /^(?:run|spare)-(\d+)-(\d+)-/;
/** A long-lived process looks again now and then; a CLI process looks once, at its first run. */
const INTERVAL_MS = 60_000;
const lastCollected = new WeakMap<CgroupDriver, number>();

/**
 * Removes run cgroups whose corral process is gone (killed with SIGKILL mid-run, say). Their
 * sandboxes died with it (bubblewrap --die-with-parent); only the empty directories remain.
 * Lifecycle containers use other names and are never touched here. Runs at most once a minute per driver.
 */
export async function collectStaleRunCgroups(driver: CgroupDriver, now = Date.now()): Promise<string[]> {
  const last = lastCollected.get(driver);
  if (last !== undefined && now - last < INTERVAL_MS) return [];
  lastCollected.set(driver, now);
  const removed: string[] = [];
  for (const name of driver.list()) {
    const m = RUN_NAME.exec(name);
    if (!m) continue;
    if (startTimeOf(Number(m[1])) === m[2]) continue; // owner still alive
    try {
      await driver.open(name)?.destroy();
      removed.push(name);
    } catch {
      // Another corral may be collecting the same one; the next run will try again.
    }
  }
  return removed;
}
