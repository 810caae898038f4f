import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { UnsupportedError } from '../../../errors.js';
import type { ResolvedSeccomp } from '../../../spec/seccomp.js';
import { ALLOW_ALL_PROGRAM, allowsNamespaces, seccompProgram } from './program.js';

/** Node's names for the architectures corral's filter knows. */
const FILTERED_ARCHES = new Set(['x64', 'arm64']);

/**
 * The program to hand bubblewrap for this run. corral's tables cover x86_64 and aarch64 only; on
 * any other host a filter would kill every call (its architecture check comes first), so a
 * filter there is refused rather than silently skipped: isolation is not a limit `bestEffort` may
 * drop.
 */
export function sandboxFilter(seccomp: ResolvedSeccomp, arch: string = process.arch): Buffer {
  if (seccomp.mode === 'none') return ALLOW_ALL_PROGRAM;
  if (!FILTERED_ARCHES.has(arch)) {
    throw new UnsupportedError(
      `seccomp: corral's system call filter supports x86_64 and aarch64, not ${arch}`,
      'pass --seccomp none (no system call filter) to run here',
      { arch },
    );
  }
  return seccompProgram(seccomp);
}

/**
 * Whether bwrap should also forbid user namespaces (--disable-userns): a second layer behind the
 * filter's unshare/clone rules, off only when the policy itself lets namespaces be created.
 */
export function wantsDisableUserns(seccomp: ResolvedSeccomp): boolean {
  return !allowsNamespaces(seccomp);
}

/**
 * Writes the program once the sandbox has been released (see ALLOW_ALL_PROGRAM for why after),
 * and resolves once bwrap can read it to its end. Under PIPE_BUF bytes the write is atomic, so a
 * corral killed mid-way leaves bwrap nothing it could load. Waiting for the end to be sent
 * matters: bwrap reads to end of file before it sets up its init's parent-death signal, so a
 * corral that returned before sending it, then died, would leave a sandbox with no parent to die
 * with. A sandbox that already died makes the write fail (EPIPE): its exit is reported elsewhere.
 */
export async function sendFilter(pipe: Writable, program: Buffer): Promise<void> {
  pipe.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    pipe.once('error', () => resolve());
    pipe.end(program, () => resolve());
  });
}

/**
 * Resolves once the sandbox's init shows its filter in /proc. bubblewrap's init arms its
 * parent-death signal just before it installs the filter, so from then on a corral killed with
 * SIGKILL takes the whole sandbox with it; before, its death could orphan a running sandbox.
 * Every run has a filter (`none` gets the allow-all one), so this always comes; it also stops
 * when the init is gone, and gives up after `timeoutMs`, saying so: a one-shot run goes on (bwrap
 * loads the program before the command or fails), a detached sandbox is stopped. The init starts
 * with corral's own filters (corral may itself run under one, in a container): it is its count
 * going up that tells.
 */
export async function untilInitFiltered(initPid: number, timeoutMs = 2000): Promise<FilterSeen> {
  const self = readStatus('self') ?? '';
  const own = filterCount(self);
  // An old kernel (no Seccomp_filters) running corral under a filter gives nothing to watch.
  if (own > 0 && !/^Seccomp_filters:/m.test(self)) return 'unknown';
  const start = performance.now();
  for (;;) {
    const status = readStatus(String(initPid));
    if (status === undefined) return 'gone'; // its exit is reported elsewhere
    if (filterCount(status) > own) return 'filtered';
    const waited = performance.now() - start;
    if (waited > timeoutMs) return 'timeout';
    // It usually takes a millisecond or two: look again at once (each look is one small read)
    // for the first few milliseconds, a timer's minimum wait would add more than the wait itself.
    if (waited < 4) await new Promise((r) => setImmediate(r));
    else await new Promise((r) => setTimeout(r, 1));
  }
}

/** What untilInitFiltered saw: `unknown` when this kernel gives nothing to watch. */
export type FilterSeen = 'filtered' | 'gone' | 'timeout' | 'unknown';

function readStatus(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Seccomp_filters (Linux 5.9+); before that, 1 for any filter mode. */
function filterCount(status: string): number {
  const filters = /^Seccomp_filters:\s*(\d+)$/m.exec(status)?.[1];
  if (filters !== undefined) return Number(filters);
  return /^Seccomp:\s*2$/m.test(status) ? 1 : 0;
}
