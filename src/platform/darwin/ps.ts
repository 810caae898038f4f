/**
 * Reading processes through macOS `ps` (BSD ps). Each keyword gets its own `-o KEY=` so no
 * header is printed and no keyword can swallow the next as its header text; `lstart` is last
 * because it holds spaces. `-S` folds the CPU time of exited, reaped children into their parent,
 * so a tree's CPU time does not drop when a child exits.
 */
export const PS_PATH = '/bin/ps';
export const PS_ARGS = [
  '-A',
  '-S',
  '-o',
  'pid=',
  '-o',
  'ppid=',
  '-o',
  'pgid=',
  '-o',
  'rss=',
  '-o',
  'time=',
  '-o',
  'utime=',
  '-o',
  'lstart=',
] as const;

export interface PsRow {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  /** ps reports RSS in KiB. */
  readonly rssBytes: number;
  /** `time`: user + system CPU. */
  readonly cpuMs: number;
  /** `utime`: user CPU. */
  readonly userMs: number;
  /** `lstart`, whitespace-normalized: with the pid, tells a process from a later one reusing its pid. */
  readonly started: string;
}

/**
 * CPU times as ps prints them: `M:SS.cc` with minutes unbounded (`1841:49.50`), and also the
 * `[[D-]H:]MM:SS[.cc]` forms other BSDs use. Undefined if it is none of those.
 */
export function parseCpuTime(text: string): number | undefined {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d{1,2})(?:[.,](\d{1,6}))?$/.exec(text.trim());
  if (!m) return undefined;
  const [, days, hours, minutes, seconds, fraction] = m;
  const frac = fraction ? Number(`0.${fraction}`) : 0;
  const total =
    Number(days ?? 0) * 86_400 + Number(hours ?? 0) * 3_600 + Number(minutes) * 60 + Number(seconds) + frac;
  return Math.round(total * 1000);
}

/** Parses `ps` output in PS_ARGS's layout; lines it cannot read are skipped, not guessed at. */
export function parsePs(output: string): PsRow[] {
  const rows: PsRow[] = [];
  for (const line of output.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const [pid, ppid, pgid, rss] = f.slice(0, 4).map(Number) as [number, number, number, number];
    const cpuMs = parseCpuTime(f[4] as string);
    const userMs = parseCpuTime(f[5] as string);
    if (![pid, ppid, pgid, rss].every(Number.isInteger) || cpuMs === undefined || userMs === undefined)
      continue;
    rows.push({ pid, ppid, pgid, rssBytes: rss * 1024, cpuMs, userMs, started: f.slice(6).join(' ') });
  }
  return rows;
}
