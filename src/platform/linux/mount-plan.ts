import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { SandboxView, type ViewMount } from './sandbox-view.js';

/**
 * Host directories replaced by an empty tmpfs when the sandbox sees the host root: home
 * directories hold keys and tokens; /run holds sockets of host daemons (D-Bus, container
 * engines) that a network namespace does not cut off; /var/tmp is shared host scratch.
 */
export const HIDDEN_HOST_PATHS = ['/root', '/home', '/run', '/var/tmp'] as const;

export type MountOp =
  | { readonly kind: 'root'; readonly source: string }
  | { readonly kind: 'dev' | 'proc' | 'tmpfs'; readonly target: string }
  | { readonly kind: 'bind'; readonly source: string; readonly target: string; readonly mode: 'rw' | 'ro' };

export interface MountPlan {
  readonly ops: readonly MountOp[];
  readonly view: SandboxView;
}

/** Orders every mount of the sandbox, and checks each target can exist on the read-only root. */
export function planMounts(spec: ResolvedSpec, hostRoot = '/'): MountPlan {
  const rootSource = spec.rootfs ?? hostRoot;
  const ops: MountOp[] = [{ kind: 'root', source: rootSource }];
  const base: MountOp[] = [
    { kind: 'dev', target: '/dev' },
    { kind: 'proc', target: '/proc' },
    { kind: 'tmpfs', target: '/tmp' },
  ];
  if (spec.rootfs === undefined) {
    for (const p of hiddenPaths(hostRoot)) base.push({ kind: 'tmpfs', target: p });
  }
  const user: MountOp[] = [
    ...spec.tmpfs.map((target): MountOp => ({ kind: 'tmpfs', target })),
    ...spec.binds.map((b): MountOp => ({ kind: 'bind', source: b.source, target: b.target, mode: b.mode })),
  ];
  // Parents before children, so /work is mounted before /work/cache would be hidden by it.
  user.sort((a, b) => depth(a) - depth(b));
  ops.push(
    ...base.filter((m) => !user.some((u) => 'target' in u && 'target' in m && u.target === m.target)),
    ...user,
  );

  const viewMounts: ViewMount[] = [];
  for (const op of ops.slice(1)) {
    if (op.kind === 'root') continue;
    checkTarget(new SandboxView(rootSource, viewMounts), op.target, spec.rootfs !== undefined);
    viewMounts.push(op.kind === 'bind' ? { kind: 'bind', target: op.target, source: op.source } : op);
  }
  return { ops, view: new SandboxView(rootSource, viewMounts) };
}

const hiddenCache = new Map<string, string[]>();

/** Which of the hidden directories this host has (a mount point must exist on the read-only root). */
function hiddenPaths(hostRoot: string): string[] {
  let found = hiddenCache.get(hostRoot);
  if (!found) {
    found = HIDDEN_HOST_PATHS.filter((p) => existsSync(path.join(hostRoot, p)));
    hiddenCache.set(hostRoot, found);
  }
  return found;
}

function depth(op: MountOp): number {
  return op.kind === 'root' ? 0 : op.target.split('/').length;
}

/** bwrap creates a missing mount point only where it can write: inside a tmpfs. */
function checkTarget(view: SandboxView, target: string, onRootfs: boolean): void {
  if (view.lookup(target).found) return;
  for (let dir = path.posix.dirname(target); ; dir = path.posix.dirname(dir)) {
    const hit = view.lookup(dir);
    if (hit.found) {
      if (hit.hostPath === undefined && hit.kind === 'tmpfs') return;
      break;
    }
    if (dir === '/') break;
  }
  const where = onRootfs ? 'the rootfs' : 'the read-only host root';
  throw new ConfigError(
    'mounts',
    `mount target does not exist in the sandbox and cannot be created on ${where}: ${target}`,
    {
      value: target,
    },
  );
}
