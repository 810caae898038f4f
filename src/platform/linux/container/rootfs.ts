import { mkdirSync, readFileSync } from 'node:fs';
import { LaunchError } from '../../../errors.js';
import type { ProcessLauncher } from '../../../process/types.js';
import type { ContainerPaths } from '../../../runtime/paths.js';
import type { RootfsRecord } from '../../../runtime/types.js';
import { findHostTool } from '../host-tools.js';
import { runProbe } from '../../probe.js';

/** Characters overlayfs's option parser would split a path on. */
const UNSAFE_FOR_OPTIONS = /[,:\\\n]/;

/**
 * Gives a container a copy-on-write view of an image: an overlay mounted on the host under the
 * container dir where the kernel allows (root), else a full copy. The image is the read-only
 * lower layer; every write lands in the container's own upper dir or copy.
 */
export async function prepareRootfs(
  launcher: ProcessLauncher,
  image: { name: string; rootfs: string },
  paths: ContainerPaths,
  allowOverlay: boolean,
): Promise<RootfsRecord> {
  for (const d of [paths.rootfs, paths.upper, paths.work]) mkdirSync(d, { recursive: true, mode: 0o755 });
  const mount = findHostTool('mount');
  const paths3 = [image.rootfs, paths.upper, paths.work, paths.rootfs];
  if (allowOverlay && mount && !paths3.some((p) => UNSAFE_FOR_OPTIONS.test(p))) {
    // nodev, nosuid: a device node or setuid file shipped in an image must grant nothing.
    const r = await runProbe(
      launcher,
      mount,
      [
        '--no-canonicalize',
        '-t',
        'overlay',
        '-o',
        `lowerdir=${image.rootfs},upperdir=${paths.upper},workdir=${paths.work},nodev,nosuid`,
        'overlay',
        paths.rootfs,
      ],
      {},
      10_000,
    );
    if (r.ok) return { mode: 'overlay', path: paths.rootfs, image: image.name };
  }
  const cp = findHostTool('cp');
  if (!cp) throw new LaunchError('cannot copy the image: cp(1) is not installed');
  const r = await runProbe(
    launcher,
    cp,
    ['-a', '--reflink=auto', '--', `${image.rootfs}/.`, paths.rootfs],
    {},
    600_000,
  );
  if (!r.ok) throw new LaunchError(`cannot copy image ${image.name} for the container: ${r.error}`);
  return { mode: 'copy', path: paths.rootfs, image: image.name };
}

/** Unmounts the container's overlay if it is mounted (also after a crash). Safe to call twice. */
export async function releaseRootfs(launcher: ProcessLauncher, paths: ContainerPaths): Promise<void> {
  if (!isMountPoint(paths.rootfs)) return;
  const umount = findHostTool('umount');
  if (!umount) throw new LaunchError(`cannot unmount ${paths.rootfs}: umount(8) is not installed`);
  let r = await runProbe(launcher, umount, ['--no-canonicalize', paths.rootfs], {}, 10_000);
  // Busy only if some process still has a file open in it; a lazy unmount detaches it now and
  // lets the kernel free it when that process is gone (the container's are, by now).
  if (!r.ok) r = await runProbe(launcher, umount, ['--no-canonicalize', '-l', paths.rootfs], {}, 10_000);
  if (!r.ok && isMountPoint(paths.rootfs))
    throw new LaunchError(`cannot unmount the container's root filesystem ${paths.rootfs}: ${r.error}`);
}

/** True when `dir` is a mount point in corral's own mount namespace. */
export function isMountPoint(dir: string): boolean {
  return mountsUnder(dir).includes(dir);
}

/** Mount points at or below `dir` (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === dir || p.startsWith(`${dir}/`)) out.push(p);
  }
  return out;
}
