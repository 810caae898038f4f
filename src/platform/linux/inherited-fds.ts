import { closeSync, openSync, readdirSync, readSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

/**
 * What each open fd was found to be. An fd number that vanishes from a listing is forgotten; one
 * closed and reopened between two listings is reopened by Node, hence close-on-exec, so a stale
 * "close-on-exec" entry cannot hide an inheritable descriptor (a stale "inheritable" one only
 * costs an unneeded /dev/null).
 */
const known = new Map<number, boolean>();
const buf = Buffer.alloc(256);

/**
 * Descriptors of this process that a child would inherit: 3 and up, without close-on-exec.
 * Node opens everything close-on-exec, so these came from whoever started corral (a shell, a CI
 * runner, a supervisor's socket) and libuv passes them to every child untouched: bubblewrap would
 * hand them on to the sandboxed command, a channel straight out of the sandbox.
 */
export function inheritableFds(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  const open = new Set(names.map(Number));
  for (const fd of known.keys()) if (!open.has(fd)) known.delete(fd);
  const out: number[] = [];
  for (const fd of open) {
    if (!(fd > 2)) continue;
    let inheritable = known.get(fd);
    if (inheritable === undefined) {
      inheritable = readInheritable(fd);
      if (inheritable === undefined) continue; // closed meanwhile, like the listing's own fd
      known.set(fd, inheritable);
    }
    if (inheritable) out.push(fd);
  }
  return out.sort((a, b) => a - b);
}

function readInheritable(fd: number): boolean | undefined {
  let info: number;
  try {
    info = openSync(`/proc/self/fdinfo/${fd}`, 'r');
  } catch {
    return undefined;
  }
  try {
    const n = readSync(info, buf, 0, buf.length, 0);
    const flags = /^flags:\s*([0-7]+)/m.exec(buf.toString('latin1', 0, n))?.[1];
    return flags === undefined ? undefined : (parseInt(flags, 8) & O_CLOEXEC) === 0;
  } finally {
    closeSync(info);
  }
}
