import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UnsupportedError } from '../../../errors.js';
import type { ResolvedSeccomp } from '../../../spec/seccomp.js';
import { sandboxFilter } from '../seccomp/sandbox-filter.js';
import { EXEC_SHIM_NAME, EXEC_SHIM_SCRIPT } from '../exec-shim.js';

/**
 * The program the container was started with, as bubblewrap read it from its file. A container
 * started by a corral without filters has none: it gets what its spec compiles to, which can
 * only be stricter than what it runs under.
 */
export function containerProgram(file: string, seccomp: ResolvedSeccomp): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return sandboxFilter(seccomp);
  }
}

/** Where an image's own bubblewrap may be, as the container sees it. */
const IMAGE_BWRAP = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'];

/**
 * The bubblewrap that starts an exec'd command: it closes what corral inherited, drops the
 * capability bounding set and loads the filter. It runs in the container's mount namespace, so it
 * must be in the container's view: the host's (at its own path through the read-only host root),
 * or, on a root filesystem of its own, one installed in it. Undefined when there is none.
 */
export function nestedBwrap(
  rootfs: string | undefined,
  hostBwrap: string | undefined,
): { path: string; host: boolean } | undefined {
  if (rootfs === undefined) return hostBwrap ? { path: hostBwrap, host: true } : undefined;
  const found = IMAGE_BWRAP.find((p) => {
    try {
      return statSync(path.join(rootfs, p)).isFile();
    } catch {
      return false;
    }
  });
  return found ? { path: found, host: false } : undefined;
}

/** Why exec cannot go on: a filter to load and no bubblewrap in the container to load it. */
export function noNestedBwrap(rootfs: string | undefined, mode: ResolvedSeccomp['mode']): UnsupportedError {
  const where =
    rootfs === undefined
      ? 'bubblewrap is not installed on the host'
      : `its root filesystem (${rootfs}) has no bubblewrap (looked for ${IMAGE_BWRAP.join(', ')})`;
  const what =
    mode === 'none' ? 'the given seccomp program' : `the container's system call filter (seccomp ${mode})`;
  return new UnsupportedError(
    `cannot exec: ${what} must be loaded on the new command by bubblewrap inside the container, and ${where}`,
    'install bubblewrap in the image (or directory), create the container with --seccomp none, or run the command as part of the container',
    { rootfs, seccomp: mode },
  );
}

/**
 * bubblewrap exits 1 when the command cannot be run; a shell's `exec` gives 127 (not found) and
 * 126 (not executable), as exec without a filter does. Used when the container has /bin/sh.
 */
export function execStatusShell(rootfs: string | undefined): string[] {
  const sh = '/bin/sh';
  try {
    if (!statSync(path.join(rootfs ?? '/', sh)).isFile()) return [];
  } catch {
    return [];
  }
  return [sh, '-c', EXEC_SHIM_SCRIPT, EXEC_SHIM_NAME];
}
