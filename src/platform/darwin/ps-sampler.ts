import type { ProcessSample, TreeSampler } from '../../limits/types.js';
import type { ProcessLauncher } from '../../process/types.js';
import { PS_ARGS, PS_PATH, parsePs, type PsRow } from './ps.js';

/**
 * Picks a sandbox's processes out of a ps listing. macOS has no pid namespace: an orphan is
 * reparented to launchd and leaves the tree, so besides the roots' descendants this keeps the
 * members of the process groups the live roots lead, and every process ever seen in the tree (known
 * by pid and start time, so a reused pid is not mistaken for it). What escapes all three (a
 * daemon that double-forks and calls setsid before the first sample sees it) is not tracked.
 */
export function selectTree(
  rows: readonly PsRow[],
  roots: readonly number[],
  known: Map<number, string>,
): ProcessSample[] {
  const byPid = new Map(rows.map((r) => [r.pid, r]));
  const children = new Map<number, PsRow[]>();
  for (const r of rows) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
  // A root counts while it is the process first seen under its pid. Its group counts while it
  // lives, and after it died as long as no stranger holds its pid (a group id is only ever
  // reused by a new process with that pid); that is how background children of a command that
  // exited before any sample saw them are still found and ended.
  const ours = (pid: number) => {
    const row = byPid.get(pid);
    const first = known.get(pid);
    return row !== undefined && (first === undefined || first === row.started);
  };
  const groupIsOurs = (pid: number) => ours(pid) || (!byPid.has(pid) && known.has(pid));
  const live = new Set(roots.filter(ours));
  const groups = new Set(roots.filter(groupIsOurs));
  const seeds = rows.filter((r) => live.has(r.pid) || groups.has(r.pgid) || known.get(r.pid) === r.started);
  const members = new Map<number, PsRow>();
  const queue = [...seeds];
  while (queue.length > 0) {
    const r = queue.shift() as PsRow;
    // launchd and the kernel are never part of a sandbox, whatever a listing says.
    if (r.pid <= 1 || members.has(r.pid)) continue;
    members.set(r.pid, r);
    queue.push(...(children.get(r.pid) ?? []));
  }
  for (const [pid, r] of members) known.set(pid, r.started);
  // Forget the dead, except roots: their pid is what recognizes their group.
  for (const pid of known.keys()) if (!byPid.has(pid) && !roots.includes(pid)) known.delete(pid);
  return [...members.values()].map((r) => ({
    pid: r.pid,
    ppid: r.ppid,
    pgid: r.pgid,
    cpuUserMs: Math.min(r.userMs, r.cpuMs),
    cpuSystemMs: Math.max(0, r.cpuMs - r.userMs),
    rssBytes: r.rssBytes,
    startTime: r.started,
  }));
}

/** Samples one sandbox's tree with `ps` (one sampler per sandbox: it remembers who it saw). */
export class PsSampler implements TreeSampler {
  readonly source = 'ps';
  private readonly known = new Map<number, string>();

  constructor(
    private readonly launcher: ProcessLauncher,
    private readonly psPath = PS_PATH,
    private readonly timeoutMs = 5_000,
  ) {}

  async sample(roots: readonly number[]): Promise<readonly ProcessSample[]> {
    return selectTree(parsePs(await this.listing()), roots, this.known);
  }

  private async listing(): Promise<string> {
    const p = this.launcher.launch({
      file: this.psPath,
      args: PS_ARGS,
      // C locale: a '.' decimal point and English day names in lstart.
      env: { PATH: '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
      cwd: '/',
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    let out = '';
    let err = '';
    p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), this.timeoutMs);
    try {
      const e = await p.exit;
      if (e.code !== 0) throw new Error(`ps failed (${e.code ?? e.signal}): ${err.trim()}`);
      return out;
    } finally {
      clearTimeout(timer);
    }
  }
}
