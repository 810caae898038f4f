import type { ExecInfo } from './proc-read.js';
import { splitCmdline } from './proc-read.js';
import type { ProcEvent } from './proc-event.js';

/** One line of the capture's output (see capture-script.ts), parsed. */
export type CaptureLine =
  | { kind: 'event'; event: ProcEvent }
  | { kind: 'ready'; mode: 'single' | 'split' | 'bpf' }
  | { kind: 'refused'; errno: number; why: string }
  | { kind: 'overflow' }
  | { kind: 'drained' };

const hex = (field: string | undefined): Buffer | undefined =>
  field === undefined || field === '-' ? undefined : Buffer.from(field, 'hex');

const text = (field: string | undefined): string | null => hex(field)?.toString('utf8') ?? null;

/** What the capture read for an exec, in the shape /proc reads give (see readExecInfo). */
function execInfo(
  argvHex: string | undefined,
  exe: string | undefined,
  cwd: string | undefined,
  comm: string | undefined,
  truncated: boolean,
): ExecInfo {
  const raw = hex(argvHex);
  const common = { exe: text(exe), cwd: text(cwd) };
  if (raw && raw.length > 0) {
    const argv = splitCmdline(raw);
    return {
      command: argv[0] ?? null,
      args: argv.slice(1),
      argv: truncated ? 'truncated' : 'full',
      ...common,
    };
  }
  return { command: text(comm)?.replace(/\n$/, '') ?? null, args: null, argv: 'none', ...common };
}

const int = (s: string | undefined): number => {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : NaN;
};

/** Parses one line; undefined for anything malformed (the capture and corral disagree: skip it). */
export function parseCaptureLine(line: string): CaptureLine | undefined {
  const f = line.split(' ');
  const [kind, ts] = f;
  let timestampNs: bigint;
  switch (kind) {
    case 'R':
      return ts === 'single' || ts === 'split' || ts === 'bpf' ? { kind: 'ready', mode: ts } : undefined;
    case 'N':
      return { kind: 'refused', errno: int(ts), why: f.slice(2).join(' ') };
    case 'O':
      return { kind: 'overflow' };
    case 'D':
      return { kind: 'drained' };
    case 'F':
    case 'E':
    case 'X':
      if (!ts || !/^\d+$/.test(ts)) return undefined;
      timestampNs = BigInt(ts);
      break;
    default:
      return undefined;
  }
  const n = f.slice(2, kind === 'E' ? 4 : 6).map(int);
  if (n.some((x) => Number.isNaN(x))) return undefined;
  const [a = NaN, b = NaN, c = NaN, d = NaN] = n;
  if (kind === 'F') {
    // A seventh field (the eBPF capture): the tgid of the process that forked.
    const by = f.length === 7 ? int(f[6]) : undefined;
    if ((f.length !== 6 && f.length !== 7) || Number.isNaN(by)) return undefined;
    return {
      kind: 'event',
      event: {
        kind: 'fork',
        timestampNs,
        parentPid: a,
        parentTgid: b,
        childPid: c,
        childTgid: d,
        ...(by !== undefined && { forkerTgid: by }),
      },
    };
  }
  if (kind === 'X') {
    if (f.length !== 6) return undefined;
    return {
      kind: 'event',
      event: { kind: 'exit', timestampNs, pid: a, tgid: b, exitCode: c, parentTgid: d < 0 ? null : d },
    };
  }
  // An eleventh field `t`: argv is the start of a longer one (the eBPF capture's copy is capped).
  if (f.length !== 10 && !(f.length === 11 && f[10] === 't')) return undefined;
  return {
    kind: 'event',
    event: {
      kind: 'exec',
      timestampNs,
      pid: a,
      tgid: b,
      info: execInfo(f[4], f[5], f[6], f[7], f[10] === 't'),
      // `?`: not looked at (nobody needed it), which is not the same as gone (`-`).
      ...(f[8] !== '?' && { pidNs: text(f[8]) }),
      ...(f[9] !== '?' && { cgroup: text(f[9]) }),
    },
  };
}
