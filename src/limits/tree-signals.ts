import type { ProcessSample, Signaller, TreeSampler } from './types.js';

/**
 * Signals every process of a sampled tree: first each process group whose leader belongs to
 * the tree (the kernel delivers to a whole group at once, so members forked a moment ago are
 * included), then every pid, which covers processes that moved to a group of their own.
 * Groups led by a process outside the tree are never signalled: they may hold host processes.
 */
export function signalSampled(
  samples: readonly ProcessSample[],
  signal: NodeJS.Signals,
  send: Signaller,
): number[] {
  const pids = new Set(samples.map((s) => s.pid));
  const groups = new Set<number>();
  for (const s of samples) if (s.pgid !== undefined && s.pgid > 1 && pids.has(s.pgid)) groups.add(s.pgid);
  for (const g of groups) send(-g, signal);
  const reached: number[] = [];
  for (const pid of pids) if (send(pid, signal)) reached.push(pid);
  return reached;
}

const MAX_ROUNDS = 8;

/**
 * Signals the tree until a fresh sample finds nobody new: a process can fork between the
 * sample and the signal, and SIGSTOP/SIGKILL are delivered asynchronously. Stopped parents
 * fork no more, so the rounds converge; they are bounded so a pathological tree cannot hold
 * the monitor. Returns every pid signalled.
 */
export async function signalTree(
  sampler: TreeSampler,
  roots: readonly number[],
  signal: NodeJS.Signals,
  send: Signaller,
  first: readonly ProcessSample[] | undefined,
  cancelled: () => boolean = () => false,
): Promise<Set<number>> {
  const done = new Set<number>();
  let samples = first ?? (await sampler.sample(roots));
  for (let round = 0; round < MAX_ROUNDS && !cancelled(); round++) {
    const fresh = samples.filter((s) => !done.has(s.pid));
    if (fresh.length === 0) break;
    signalSampled(signal === 'SIGKILL' ? samples : fresh, signal, send);
    for (const s of fresh) done.add(s.pid);
    samples = await sampler.sample(roots).catch(() => []);
  }
  return done;
}
