import { readFileSync, readdirSync } from 'node:fs';

/** Direct children of a process, from /proc/PID/task/TID/children (Linux 3.5+). */
export function childrenOf(pid: number, procRoot = '/proc'): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`${procRoot}/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`${procRoot}/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        const n = Number(c);
        if (Number.isInteger(n) && n > 0) out.push(n);
      }
    } catch {
      // the task exited while we looked
    }
  }
  return out;
}

/** Every descendant of `pid` (not `pid` itself), breadth first. */
export function descendantsOf(pid: number): number[] {
  const seen = new Set<number>();
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of childrenOf(queue.shift() as number)) {
      if (!seen.has(c)) {
        seen.add(c);
        queue.push(c);
      }
    }
  }
  return [...seen];
}

/** Field 22 of /proc/PID/stat: start time in clock ticks, which tells a pid apart from a reused one. */
export function startTimeOf(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}
