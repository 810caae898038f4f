import { statSync } from 'node:fs';
import { ConfigError } from '../../errors.js';
import { DEFAULT_SANDBOX_ID } from '../../spec/resolve.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { permits, unreachableAncestor, type HostIdentity } from './access.js';

export interface SandboxIdentity extends HostIdentity {
  /** True when corral switches to this uid (it runs as root); false when it runs as itself. */
  readonly switched: boolean;
}

/**
 * As root, the sandbox runs as an unprivileged host uid: a process that is host uid 0 owns every
 * root-owned file, namespaces or not. The default is one fixed uid (2000000000) rather than a
 * fresh one per run, so people can grant a workspace to it once (chown 2000000000 DIR);
 * sandboxes are kept apart from each other by their namespaces.
 */
export function sandboxIdentity(
  spec: ResolvedSpec,
  hostUid = process.getuid?.() ?? 0,
  hostGid = process.getgid?.() ?? 0,
): SandboxIdentity {
  if (hostUid !== 0) {
    if (spec.user) {
      throw new ConfigError(
        'user',
        `user: choosing the sandbox uid needs root; corral runs as uid ${hostUid}`,
        {
          value: spec.user,
        },
      );
    }
    return { uid: hostUid, gid: hostGid, switched: false };
  }
  return {
    uid: spec.user?.uid ?? DEFAULT_SANDBOX_ID,
    gid: spec.user?.gid ?? DEFAULT_SANDBOX_ID,
    switched: true,
  };
}

/**
 * bubblewrap runs as the sandbox uid, so every bind source and the rootfs must be reachable by
 * it, and --rw sources writable. Checked here so the user gets the fix rather than a bwrap error.
 */
export function checkHostAccess(spec: ResolvedSpec, who: SandboxIdentity): void {
  if (!who.switched) return;
  const sources: { field: string; path: string; write: boolean }[] = [
    ...(spec.rootfs ? [{ field: 'rootfs', path: spec.rootfs, write: false }] : []),
    ...spec.binds.map((b) => ({ field: `--${b.mode}`, path: b.source, write: b.mode === 'rw' })),
  ];
  for (const s of sources) {
    const blocked = unreachableAncestor(s.path, who);
    if (blocked) {
      throw new ConfigError(
        s.field,
        `${s.field}: the sandbox user (uid ${who.uid}) cannot reach ${s.path}: ${blocked} is not searchable by it. ` +
          `As root, corral runs sandboxes as this unprivileged uid; move the path, or allow it: chmod o+x ${blocked}`,
        { value: s.path, uid: who.uid },
      );
    }
    if (s.write) {
      const st = statSync(s.path);
      const ok = permits(st, who, 'w') && (!st.isDirectory() || permits(st, who, 'x'));
      if (!ok) {
        throw new ConfigError(
          s.field,
          `${s.field}: ${s.path} is not writable by the sandbox user (uid ${who.uid}, gid ${who.gid}). ` +
            `As root, corral runs sandboxes as this unprivileged uid; grant it access: chown ${who.uid} ${s.path} (or choose the uid with --user)`,
          { value: s.path, uid: who.uid },
        );
      }
    }
  }
}
