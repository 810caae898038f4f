import { statSync, type Stats } from 'node:fs';
import path from 'node:path';

/** The identity a sandbox runs as on the host, for permission checks done before launch. */
export interface HostIdentity {
  readonly uid: number;
  readonly gid: number;
}

const BITS = { r: 4, w: 2, x: 1 } as const;

/**
 * Would `who` pass the kernel's DAC check for `want` on a file with these stats? Mode bits only:
 * ACLs are not consulted (they are rare on sandbox inputs, and a false "no" is reported clearly).
 */
export function permits(st: Stats, who: HostIdentity, want: 'r' | 'w' | 'x'): boolean {
  if (who.uid === 0) return want !== 'x' || (st.mode & 0o111) !== 0 || st.isDirectory();
  const bit = BITS[want];
  if (st.uid === who.uid) return ((st.mode >> 6) & bit) !== 0;
  if (st.gid === who.gid) return ((st.mode >> 3) & bit) !== 0;
  return (st.mode & bit) !== 0;
}

/** The first ancestor directory of `p` that `who` cannot search, or undefined if all can be. */
export function unreachableAncestor(p: string, who: HostIdentity): string | undefined {
  let dir = path.dirname(path.resolve(p));
  const chain: string[] = [];
  for (;;) {
    chain.unshift(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const d of chain) {
    try {
      if (!permits(statSync(d), who, 'x')) return d;
    } catch {
      return d;
    }
  }
  return undefined;
}
