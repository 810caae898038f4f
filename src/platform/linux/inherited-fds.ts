import { readdirSync } from 'node:fs';

/**
 * Every descriptor of this process above stdio, by number. A child inherits those without
 * close-on-exec: Node opens its own close-on-exec, but what corral inherited (from a shell, a CI
 * runner, a supervisor's socket) libuv passes on untouched, and bubblewrap would hand it to the
 * sandboxed command, a channel straight out of the sandbox. Which ones are close-on-exec cannot
 * be read from Node (fdinfo's flags keep O_CLOEXEC from the original open even after a dup2
 * cleared it), so the backend neutralises them all: each becomes /dev/null in the child, which
 * bubblewrap then reads as empty `--args` and closes. A number listed but closed meanwhile (the
 * listing's own descriptor is one) costs nothing.
 */
export function openDescriptors(): number[] {
  try {
    return readdirSync('/proc/self/fd')
      .map(Number)
      .filter((fd) => fd > 2)
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}
