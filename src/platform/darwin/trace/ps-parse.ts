import type { ProcessSnapshot } from '../../../trace/snapshot-diff.js';

/** The `ps` invocation whose output `parsePs` reads. LC_ALL=C keeps `lstart` in English. */
export const PS_ARGS = ['-axww', '-o', 'pid=,ppid=,lstart=,command='] as const;

export interface PsRow {
  readonly pid: number;
  readonly ppid: number;
  /** `lstart`, e.g. `Tue Mar  5 09:07:02 2024`: with the pid, it tells a reused pid apart. */
  readonly started: string;
  /** The command line as ps prints it: the arguments joined by spaces. */
  readonly commandLine: string;
}

// lstart is always 24 characters, "%a %b %e %H:%M:%S %Y"; macOS pads its column with spaces.
const ROW = /^\s*(\d+)\s+(\d+)\s+([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4})\s*(.*)$/;

/** Parses `ps -axww -o pid=,ppid=,lstart=,command=`; lines that do not fit are skipped. */
export function parsePs(output: string): PsRow[] {
  const rows: PsRow[] = [];
  for (const line of output.split('\n')) {
    const m = ROW.exec(line);
    if (!m) continue;
    rows.push({
      pid: Number(m[1]),
      ppid: Number(m[2]),
      started: m[3] as string,
      commandLine: (m[4] ?? '').trimEnd(),
    });
  }
  return rows;
}

/** `initPid` and every process below it, from the rows' parent links. */
export function subtree(rows: readonly PsRow[], initPid: number): PsRow[] {
  const children = new Map<number, PsRow[]>();
  for (const r of rows) {
    const list = children.get(r.ppid) ?? [];
    list.push(r);
    children.set(r.ppid, list);
  }
  const out: PsRow[] = [];
  const root = rows.find((r) => r.pid === initPid);
  const queue = root ? [root] : [];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const r = queue.shift() as PsRow;
    if (seen.has(r.pid)) continue;
    seen.add(r.pid);
    out.push(r);
    queue.push(...(children.get(r.pid) ?? []));
  }
  return out;
}

/**
 * A row as a snapshot. ps joins the arguments with spaces, so they are split back on spaces and
 * marked `split`: an argument that held a space cannot be recovered. ps prints `(name)` when it
 * could not read the arguments (another user's process) and `<defunct>` for a zombie: then argv
 * is `none`.
 */
export function rowToSnapshot(r: PsRow): ProcessSnapshot {
  const base = { pid: r.pid, ppid: r.ppid, start: r.started, cwd: null, exe: null };
  const hidden = /^\((.*)\)$/.exec(r.commandLine);
  if (hidden || r.commandLine === '' || r.commandLine === '<defunct>') {
    return { ...base, command: hidden?.[1] ?? null, args: null, argv: 'none' };
  }
  const [command, ...args] = r.commandLine.split(' ');
  return { ...base, command: command ?? null, args, argv: 'split' };
}
