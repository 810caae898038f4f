import { readFileSync } from 'node:fs';
import type { ProcessSample, TreeSampler } from '../../limits/types.js';
import { childrenOf } from './proc-tree.js';

/**
 * USER_HZ, the unit of the times in /proc/PID/stat. The kernel fixes it at 100 in its ABI on
 * every architecture corral runs on, whatever CONFIG_HZ is.
 */
const USER_HZ = 100;
const TICK_MS = 1000 / USER_HZ;

export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  /** Own CPU time plus that of waited-for children (utime+cutime, stime+cstime), in ms. */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** Field 22, start time in clock ticks since boot. */
  readonly startTime: string;
}

/** Parses /proc/PID/stat (proc(5)). The command name may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Fields from 3 (state) on; field N is at index N - 3.
  const f = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const num = (field: number) => Number(f[field - 3]);
  const values = [num(4), num(5), num(14), num(15), num(16), num(17)];
  if (!Number.isInteger(pid) || f[0] === undefined || values.some((v) => !Number.isFinite(v)))
    return undefined;
  return {
    pid,
    state: f[0],
    ppid: num(4),
    pgid: num(5),
    cpuUserMs: (num(14) + num(16)) * TICK_MS,
    cpuSystemMs: (num(15) + num(17)) * TICK_MS,
    startTime: f[22 - 3] ?? '',
  };
}

/** VmRSS from /proc/PID/status, in bytes; 0 when absent (zombies and kernel threads have none). */
export function parseStatusRss(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process exited while we looked
  }
}

/** Samples process trees from /proc: stat for CPU, status for RSS, task/STAR/children for the tree. */
export class ProcSampler implements TreeSampler {
  readonly source = '/proc';

  constructor(private readonly procRoot = '/proc') {}

  sample(roots: readonly number[]): Promise<readonly ProcessSample[]> {
    return Promise.resolve(this.sampleSync(roots));
  }

  sampleSync(roots: readonly number[]): ProcessSample[] {
    const out: ProcessSample[] = [];
    const seen = new Set<number>();
    const queue = [...roots];
    while (queue.length > 0) {
      const pid = queue.shift() as number;
      if (seen.has(pid)) continue;
      seen.add(pid);
      const stat = parseProcStat(read(`${this.procRoot}/${pid}/stat`) ?? '');
      if (!stat) continue;
      out.push({
        pid,
        ppid: stat.ppid,
        pgid: stat.pgid,
        cpuUserMs: stat.cpuUserMs,
        cpuSystemMs: stat.cpuSystemMs,
        rssBytes: parseStatusRss(read(`${this.procRoot}/${pid}/status`) ?? ''),
        startTime: stat.startTime,
      });
      queue.push(...childrenOf(pid, this.procRoot));
    }
    return out;
  }
}
