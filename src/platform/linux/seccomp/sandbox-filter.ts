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
 * Writes the program once the sandbox has been released (see ALLOW_ALL_PROGRAM for why after).
 * Under PIPE_BUF bytes the write is atomic, so a corral killed mid-way leaves bwrap nothing it
 * could load. A sandbox that already died makes the write fail with EPIPE: that is its exit to
 * report, not an error here.
 */
export function sendFilter(pipe: Writable, program: Buffer): void {
  pipe.on('error', () => undefined);
  pipe.end(program);
}
