import { closeSync, constants, openSync } from 'node:fs';
import { StateError } from '../../errors.js';
import { DEFAULT_SANDBOX_ID } from '../../spec/resolve.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { startLogger, type StartedLogger } from '../logger.js';
import type { Loaded, RuntimeContext } from '../context.js';
import { failpoint } from '../failpoints.js';
import { releasePort, reservePort } from '../ports.js';
import { writeState } from '../store.js';
import type { ProcRef, RunRecord, StateFile } from '../types.js';
import { settle } from './settle.js';

/**
 * Starts a created (or exited) container, detached: once this returns, the command runs with its
 * limits and no corral process is needed for it to go on. Starting a running container does
 * nothing, as with docker.
 */
export async function startContainer(ctx: RuntimeContext, name: string): Promise<void> {
  using _lock = await ctx.lock(name, 'start');
  const loaded = ctx.load(name);
  const state = await settle(ctx, loaded);
  const c: Loaded = { ...loaded, state };
  if (!c.config || !state || state.status === 'creating' || state.status === 'removing')
    throw new StateError(`cannot start ${name}: it is broken; remove it with: corral rm ${name}`, { name });
  if (state.status === 'running') return;

  const runId = Math.random().toString(36).slice(2, 10);
  const run: RunRecord = { id: runId, cgroup: `ctr-${name}-${runId}` };
  // A port kept since create, or (on restart, or if its holder died) a fresh reservation.
  let port = state.port;
  let holder = state.portHolder && ctx.driver.alive(state.portHolder) ? state.portHolder : undefined;
  if (!holder) {
    const r = await reservePort(ctx.driver, port ?? undefined, c.paths.dir);
    port = r.port;
    holder = r.holder;
  }
  const starting: StateFile = {
    status: 'starting',
    port,
    ...(holder && { portHolder: holder }),
    run,
    previous: state.status === 'exited' ? 'exited' : 'created',
    ...(state.exit && { exit: state.exit }),
  };
  writeState(c.paths, starting);
  failpoint('start:recorded');

  const fds: number[] = [];
  const open = (file: string, flags: number) => {
    const fd = openSync(file, flags, 0o600);
    fds.push(fd);
    return fd;
  };
  let logger: StartedLogger | undefined;
  let recorder: ProcRef | undefined;
  try {
    const append = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;
    if (c.config.logTimestamps) logger = startLogger(ctx.driver, c.paths, loggerIdentity(c.config.spec));
    const stdoutFd = logger?.stdoutFd ?? open(c.paths.stdout, append);
    const stderrFd = logger?.stderrFd ?? open(c.paths.stderr, append);
    const statusFd = open(c.paths.status, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
    // Read-write: bwrap then holds a writer too, so the FIFO never reads EOF if we die.
    const blockFd = open(c.paths.block, constants.O_RDWR);
    let ready: RunRecord = logger?.ref ? { ...run, logger: logger.ref } : run;
    const started = await ctx.driver.start({
      spec: runSpec(c.config.spec, c.config.rootfs.path, port),
      paths: c.paths,
      cgroupName: run.cgroup as string,
      stdoutFd,
      stderrFd,
      statusFd,
      blockFd,
      hide: [ctx.dataDir],
      writableRoot: c.config.rootfs.mode === 'overlay' || c.config.rootfs.mode === 'copy',
      onReady: async ({ bwrap, init, cgroup, limits, notEnforced }) => {
        ready = { ...ready, bwrap, init, limits, notEnforced };
        const timeoutMs = c.config?.spec.limits.timeoutMs;
        const watcher =
          timeoutMs === undefined ? undefined : await ctx.driver.startWatcher(ready, timeoutMs, c.paths);
        if (watcher) ready = { ...ready, watcher };
        const trace = c.config?.trace;
        if (trace) {
          // Now, while the init is held: the recorder sees the command's first exec.
          const started = await ctx.driver.startRecorder({
            init,
            cgroup,
            label: name,
            file: c.paths.trace,
            trace,
          });
          recorder = started.recorder;
          ready = { ...ready, trace: started };
          failpoint('start:traced');
        }
        writeState(c.paths, { ...starting, run: ready });
        failpoint('start:ready');
        // The last moment before the command runs: the service can now bind the port.
        await releasePort(ctx.driver, holder);
      },
    });
    failpoint('start:released');
    writeState(c.paths, {
      status: 'running',
      port,
      run: {
        ...ready,
        startedAt: new Date().toISOString(),
        limits: started.limits,
        notEnforced: started.notEnforced,
        seccomp: c.config.spec.seccomp.mode,
      },
    });
  } catch (err) {
    if (logger?.ref) ctx.driver.launcher.signal(logger.ref.pid, 'SIGKILL');
    if (recorder && ctx.driver.alive(recorder)) ctx.driver.launcher.signal(recorder.pid, 'SIGKILL');
    // The driver has killed what it launched; go back to what the container was.
    writeState(c.paths, {
      status: state.status === 'exited' ? 'exited' : 'created',
      port,
      ...(holder && ctx.driver.alive(holder) && { portHolder: holder }),
      ...(state.exit && { exit: state.exit }),
      ...(state.run && { run: state.run }),
    });
    throw err;
  } finally {
    for (const fd of fds) closeSync(fd);
    logger?.close();
  }
}

/** The logger runs as the sandbox's uid when corral is root: it needs no privilege at all. */
function loggerIdentity(spec: ResolvedSpec): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  return { uid: spec.user?.uid ?? DEFAULT_SANDBOX_ID, gid: spec.user?.gid ?? DEFAULT_SANDBOX_ID };
}

/** The spec as the sandbox gets it: the image's root, and the port in PORT and CORRAL_PORT. */
function runSpec(spec: ResolvedSpec, rootfs: string | undefined, port: number | null): ResolvedSpec {
  if (port === null) return { ...spec, ...(rootfs && { rootfs }) };
  const env: Record<string, string> = { ...spec.env, CORRAL_PORT: String(port) };
  // A PORT the user set wins: they may want the service elsewhere.
  if (spec.env.PORT === undefined) env.PORT = String(port);
  return { ...spec, env, rootfs: rootfs ?? spec.rootfs };
}
