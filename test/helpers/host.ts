import { spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { detectCgroups } from '../../src/platform/linux/cgroup/detect.js';
import { findHostTool } from '../../src/platform/linux/host-tools.js';
import { DEFAULT_SANDBOX_ID } from '../../src/spec/resolve.js';

export const isRoot = process.getuid?.() === 0;

/** Why the real-kernel tests cannot run here, or undefined if they can. */
export function linuxSandboxMissing(): string | undefined {
  if (process.platform !== 'linux') return 'not a Linux host';
  if (!findHostTool('bwrap')) return 'bubblewrap is not installed (apt-get install bubblewrap)';
  return undefined;
}

/** Why cgroup limits cannot be tested here, or undefined. */
export function cgroupsMissing(): string | undefined {
  const d = detectCgroups();
  if (!d.driver) return `no usable cgroups: ${d.problems[0]?.reason ?? 'unknown'}`;
  const missing = ['memory', 'cpu', 'pids'].filter((c) => !d.driver?.controllers.has(c as 'memory'));
  return missing.length ? `cgroup controllers missing: ${missing.join(', ')}` : undefined;
}

/** A unique string to put in a sandboxed command line, to find its processes from the host. */
export function marker(): string {
  return `corral-marker-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The fields of /proc/PID/stat after the command (state first, then ppid); undefined once gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

// A zombie (Z) or a dying process (X) no longer runs.
const runs = (stat: string[] | undefined): boolean =>
  stat !== undefined && stat[0] !== 'Z' && stat[0] !== 'X';

/** Whether a host process runs: a zombie (its parent has not reaped it yet) does not. */
export function running(pid: number): boolean {
  return runs(statFields(pid));
}

/**
 * Tracer helpers (a proc connector capture) whose parent is gone: a recorder or corral process
 * that died without ending them. Helpers of live tracers have their parent.
 */
export function orphanedTracerHelpers(): number[] {
  return hostPidsWith('corral-trace-capture').filter((pid) => {
    const f = statFields(pid);
    return runs(f) && f?.[1] === '1';
  });
}

/** Host pids whose command line contains `text`. */
export function hostPidsWith(text: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** Run cgroups of this test process still present in any hierarchy. */
export function leftoverRunCgroups(): string[] {
  const d = detectCgroups();
  if (!d.driver) return [];
  return d.driver.list().filter((n) => n.startsWith(`run-${process.pid}-`));
}

/** A temp dir the sandbox user may write (as root, corral runs sandboxes as uid 2000000000). */
export function sandboxWritableDir(prefix = 'corral-it-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (isRoot) chownSync(dir, DEFAULT_SANDBOX_ID, DEFAULT_SANDBOX_ID);
  return dir;
}

const CLI = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

/** An unprivileged host uid for running corral as a non-root user in tests. */
export const TEST_USER_UID = 2_000_000_001;

/**
 * Runs the corral CLI in a child process (as a user would), capturing everything. With
 * `asUser`, it runs as the unprivileged TEST_USER_UID (the test must be root).
 */
export function corral(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; asUser?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const user = opts.asUser ? { uid: TEST_USER_UID, gid: TEST_USER_UID } : {};
  const env = { ...process.env, ...(opts.asUser && { HOME: '/tmp' }), ...opts.env };
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--', CLI, ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...user,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
    p.stdin.end(opts.input ?? '');
  });
}
