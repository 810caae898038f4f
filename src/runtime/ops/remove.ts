import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CorralError, StateError } from '../../errors.js';
import type { RuntimeContext } from '../context.js';
import { failpoint } from '../failpoints.js';
import { releasePort } from '../ports.js';
import { writeState } from '../store.js';
import { deriveState } from '../view.js';

export interface RemoveOptions {
  /** Kill the container first if it runs. Default false: removing a running container is refused. */
  readonly force?: boolean;
}

/**
 * Removes a container and everything it had: processes, cgroup, overlay mount, port holder,
 * directory. Each step is idempotent, so a removal cut short by a crash is finished by the next.
 */
export async function removeContainer(
  ctx: RuntimeContext,
  name: string,
  options: RemoveOptions = {},
): Promise<void> {
  const lock = await ctx.lock(name, 'remove');
  try {
    const c = ctx.load(name);
    const view = deriveState(ctx, c, true);
    const live = view.status === 'running' || view.status === 'stopping';
    if (live && !options.force)
      throw new StateError(
        `cannot remove ${name}: it is running; stop it first, or remove it with force (rm -f)`,
        {
          name,
        },
      );
    const s = c.state;
    writeState(c.paths, {
      status: 'removing',
      port: s?.port ?? null,
      ...(s?.portHolder && { portHolder: s.portHolder }),
      ...(s?.run && { run: s.run }),
    });
    failpoint('remove:marked');
    await releasePort(ctx.driver, s?.portHolder);
    // Anything but a clean steady state may have unrecorded processes (a killed create or start).
    const thorough = view.status === 'broken' || !s || !['created', 'running', 'exited'].includes(s.status);
    // No kill before it: releaseRun kills, after its hunt (see ContainerDriver.releaseRun).
    if (s?.run || thorough) await ctx.driver.releaseRun(s?.run ?? { id: 'none' }, c.paths, thorough);
    if (c.config) await ctx.driver.releaseRootfs(c.paths, c.config.rootfs);
    else await ctx.driver.releaseRootfs(c.paths, { mode: 'overlay' });
    const mounts = ctx.driver.mountsUnder(c.paths.dir);
    if (mounts.length > 0)
      throw new CorralError(
        'E_STATE',
        `cannot remove ${name}: ${mounts[0]} is still mounted; unmount it and run rm again`,
        {
          mounts,
        },
      );
    failpoint('remove:released');
    // Renamed first, so the name is free at once and a crash mid-delete leaves no half container.
    const trash = path.join(path.dirname(c.paths.dir), `.trash-${name}-${process.pid}-${Date.now()}`);
    renameSync(c.paths.dir, trash);
    rmSync(trash, { recursive: true, force: true });
  } finally {
    lock.releaseAndClean();
  }
}
