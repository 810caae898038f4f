import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { ProcRef } from '../../../runtime/types.js';
import { startTimeOf } from '../proc-tree.js';

/** The process now holding `pid`, with its start time, or undefined if there is none. */
export function identify(pid: number | 'self'): ProcRef | undefined {
  const start = startTimeOf(pid);
  if (start === undefined) return undefined;
  return { pid: pid === 'self' ? process.pid : pid, start };
}

/**
 * True while the very process `ref` names still runs: same pid, same start time (so a reused
 * pid is not mistaken for it), and not a zombie waiting to be reaped.
 */
export function isAlive(ref: ProcRef): boolean {
  try {
    const stat = readFileSync(`/proc/${ref.pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[0] !== 'Z' && rest[0] !== 'X' && rest[19] === ref.start;
  } catch {
    return false;
  }
}

/**
 * Pids of the processes holding any of `files` open. Used to find what an operation left behind
 * when corral was killed before it could record it: every process of a start holds the block
 * FIFO, and a port holder keeps its container's directory open.
 */
export function holdersOf(files: readonly string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (files.includes(readlinkSync(`/proc/${entry}/fd/${fd}`))) {
          out.push(Number(entry));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

/** Seccomp mode of a process from /proc/PID/status: 0 none, 1 strict, 2 filter. */
export function seccompMode(pid: number): number | undefined {
  try {
    const m = /^Seccomp:\s*(\d)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
