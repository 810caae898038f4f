import { closeSync, openSync, readFileSync, readSync, readlinkSync } from 'node:fs';
import type { ArgvCapture } from '../../../trace/types.js';

export interface ExecInfo {
  readonly command: string | null;
  readonly args: readonly string[] | null;
  readonly argv: ArgvCapture;
  readonly cwd: string | null;
  readonly exe: string | null;
}

function tryRead(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

const scratch = Buffer.alloc(64 << 10);

/**
 * /proc/PID/cmdline as fast as it can be read: one open, one read into a reused buffer, one
 * close (readFileSync also stats and grows a buffer). Long command lines take the slow path.
 */
function readCmdline(pid: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/cmdline`, 'r');
  } catch {
    return undefined;
  }
  try {
    const n = readSync(fd, scratch, 0, scratch.length, 0);
    if (n < scratch.length) return Buffer.from(scratch.subarray(0, n));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  return tryRead(`/proc/${pid}/cmdline`);
}

function tryLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** Splits /proc/PID/cmdline (NUL-separated, NUL-terminated) into argv. */
export function splitCmdline(raw: Buffer): string[] {
  const end = raw.length > 0 && raw[raw.length - 1] === 0 ? raw.length - 1 : raw.length;
  return raw.subarray(0, end).toString('utf8').split('\0');
}

/**
 * Reads what a process is running, cmdline first: a short-lived process can exit at any moment,
 * and its argv is the part worth most. A zombie's cmdline is empty: then only the kernel's
 * 15-character name survives, and the argv is reported as not captured.
 */
export function readExecInfo(pid: number): ExecInfo {
  const raw = readCmdline(pid);
  const exe = tryLink(`/proc/${pid}/exe`);
  const cwd = tryLink(`/proc/${pid}/cwd`);
  if (raw && raw.length > 0) {
    const argv = splitCmdline(raw);
    return { command: argv[0] ?? null, args: argv.slice(1), argv: 'full', cwd, exe };
  }
  const comm = tryRead(`/proc/${pid}/comm`)?.toString('utf8').replace(/\n$/, '');
  return { command: comm ?? null, args: null, argv: 'none', cwd, exe };
}

export interface ProcStat {
  readonly ppid: number;
  /** Start time in clock ticks since boot: with the pid, identifies one process across pid reuse. */
  readonly startTime: string;
}

/** Parent and start time from /proc/PID/stat; undefined once the process is gone. */
export function readStat(pid: number): ProcStat | undefined {
  const raw = tryRead(`/proc/${pid}/stat`)?.toString('latin1');
  if (!raw) return undefined;
  // comm (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(rest[1]);
  const startTime = rest[19];
  if (!Number.isInteger(ppid) || startTime === undefined) return undefined;
  return { ppid, startTime };
}

/** Whether /proc/PID/cgroup places the process in a cgroup called `name` (any hierarchy). */
export function inCgroup(pid: number, name: string): boolean {
  const raw = tryRead(`/proc/${pid}/cgroup`)?.toString('utf8');
  return raw !== undefined && cgroupFileNames(raw, name);
}

/** Whether the text of a /proc/PID/cgroup file names a cgroup called `name` (any hierarchy). */
export function cgroupFileNames(raw: string, name: string): boolean {
  for (const line of raw.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    if (path.split('/').includes(name)) return true;
  }
  return false;
}

/** The pid namespace /proc/PID/ns/pid names (e.g. `pid:[4026532]`); null once the process is gone. */
export function readPidNs(pid: number): string | null {
  return tryLink(`/proc/${pid}/ns/pid`);
}
