import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';

/** One mount in the sandbox, as far as path lookups before launch need to know. */
export type ViewMount =
  | { readonly target: string; readonly kind: 'bind'; readonly source: string }
  | { readonly target: string; readonly kind: 'tmpfs' | 'proc' | 'dev' };

export type ViewLookup =
  | { readonly found: true; readonly sandboxPath: string; readonly hostPath: string; readonly stats: Stats }
  | {
      readonly found: true;
      readonly sandboxPath: string;
      readonly hostPath: undefined;
      readonly kind: string;
    }
  | { readonly found: false; readonly sandboxPath: string };

const MAX_SYMLINKS = 40; // the kernel's limit (ELOOP)

/**
 * The sandbox's filesystem as seen from the host before launch: a root directory plus mounts on
 * top. Resolves sandbox paths the way the kernel would inside, following symlinks within the
 * view, so "command not found" and "not a directory" are reported before bwrap runs.
 */
export class SandboxView {
  private readonly mounts: ViewMount[];

  constructor(
    private readonly root: string,
    mounts: readonly ViewMount[],
  ) {
    // Longest target first: the most specific mount wins a lookup.
    this.mounts = [...mounts].sort((a, b) => b.target.length - a.target.length);
  }

  lookup(sandboxPath: string): ViewLookup {
    const pending = sandboxPath.split('/').filter(Boolean);
    let current = '/';
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === '.') continue;
      if (part === '..') {
        current = path.posix.dirname(current);
        continue;
      }
      const next = path.posix.join(current, part);
      const where = this.locate(next);
      if (where.virtual) {
        // Inside a tmpfs, /proc or /dev: only the mount point itself is known to exist, and the
        // directories leading to mounts made inside it (a --ro bind under /tmp).
        if (pending.length > 0 && this.mounts.some((m) => m.target.startsWith(`${next}/`))) {
          current = next;
          continue;
        }
        if (where.atMountPoint && pending.length === 0) {
          return { found: true, sandboxPath: next, hostPath: undefined, kind: where.virtual };
        }
        return { found: false, sandboxPath };
      }
      let st: Stats;
      try {
        st = lstatSync(where.host);
      } catch {
        return { found: false, sandboxPath };
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) return { found: false, sandboxPath };
        const target = readlinkSync(where.host);
        pending.unshift(...target.split('/').filter(Boolean));
        if (target.startsWith('/')) current = '/';
        continue;
      }
      if (pending.length > 0 && !st.isDirectory()) return { found: false, sandboxPath };
      current = next;
    }
    const where = this.locate(current);
    if (where.virtual) return { found: true, sandboxPath: current, hostPath: undefined, kind: where.virtual };
    try {
      return { found: true, sandboxPath: current, hostPath: where.host, stats: lstatSync(where.host) };
    } catch {
      return { found: false, sandboxPath };
    }
  }

  private locate(sandboxPath: string): { virtual?: string; atMountPoint?: boolean; host: string } {
    for (const m of this.mounts) {
      if (sandboxPath === m.target || sandboxPath.startsWith(m.target === '/' ? '/' : `${m.target}/`)) {
        if (m.kind !== 'bind') return { virtual: m.kind, atMountPoint: sandboxPath === m.target, host: '' };
        return { host: path.join(m.source, path.posix.relative(m.target, sandboxPath)) };
      }
    }
    return { host: path.join(this.root, sandboxPath) };
  }
}
