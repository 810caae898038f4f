import { closeSync, openSync, writeSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { LaunchError, UnsupportedError } from '../../errors.js';
import type { LaunchRequest, LaunchedProcess, ProcessLauncher, StdioTarget } from '../../process/types.js';
import type { BackendStartOptions, LimitReport, NotEnforced } from '../../run/backend.js';
import { DEFAULT_PATH } from '../../spec/resolve.js';
import type { LimitName, ResolvedSpec } from '../../spec/types.js';
import { buildBwrapArgs } from './bwrap-args.js';
import { readChildPid, release } from './bwrap-launch.js';
import type { CgroupDetection } from './cgroup/detect.js';
import { collectStaleRunCgroups, runCgroupName } from './cgroup/gc.js';
import type { Cgroup } from './cgroup/types.js';
import { checkHostAccess, sandboxIdentity, type SandboxIdentity } from './identity.js';
import { applyCgroupLimits, createLimitedCgroup, planCgroupLimits } from './limit-plan.js';
import type { WarmPool } from './warm/warm-pool.js';
import { planMounts } from './mount-plan.js';
import { checkWorkdir, resolveCommand } from './resolve-command.js';
import { rlimitReports, ulimitCommands, wrapperArgs } from './rlimits.js';
import { controlFds } from './control-fds.js';
import { setNofile } from './set-nofile.js';
import type { ResourceHandle, ResourceLimiter } from '../../limits/types.js';
import { watchSandbox } from './userspace-limits.js';
import type { BwrapFeatures } from './bwrap-features.js';
import { openDescriptors } from './inherited-fds.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import {
  sandboxFilter,
  sendFilter,
  untilInitFiltered,
  wantsDisableUserns,
} from './seccomp/sandbox-filter.js';

/** The host tools and settings every sandbox launch needs. */
export interface LaunchTools {
  readonly launcher: ProcessLauncher;
  readonly cgroups: CgroupDetection;
  readonly bwrapPath: string | undefined;
  readonly prlimitPath: string | undefined;
  readonly hostUid?: number | undefined;
  readonly hostGid?: number | undefined;
  readonly hostRoot?: string | undefined;
  /**
   * The monitor that holds memory and cpus where cgroups cannot, and its interval. Absent: such
   * limits are refused (a detached container has no corral process to run a monitor).
   */
  readonly userspace?: { readonly limiter: () => ResourceLimiter; readonly intervalMs: number } | undefined;
  /** What the installed bubblewrap supports (read once from `bwrap --version`). */
  readonly bwrapFeatures: (bwrapPath: string) => Promise<BwrapFeatures>;
  /** Spares for warm starts (see warm/warm-pool.ts); only one-shot runs use them. */
  readonly warm?: WarmPool | undefined;
}

export interface SandboxLaunchOptions {
  readonly stdin: StdioTarget;
  readonly stdout: StdioTarget;
  readonly stderr: StdioTarget;
  readonly dieWithParent: boolean;
  /** Name of the sandbox's cgroup. Default: a `run-…` name the stale-run collector may reclaim. */
  readonly cgroupName?: string;
  /**
   * An fd the init blocks on until corral writes a byte to it. Default: a pipe from corral, which
   * reads EOF (and so proceeds) if corral dies; detached sandboxes pass a FIFO that bwrap also
   * holds open for writing, so a corral killed mid-start leaves the init blocked, never unlimited.
   */
  readonly blockFd?: number;
  /** An fd where bubblewrap writes JSON status documents, the exit code last (`--json-status-fd`). */
  readonly statusFd?: number;
  /**
   * A file to keep the seccomp program in, opened as bwrap's `--seccomp` fd: bwrap reads it to
   * its end after the release, whether or not corral is still there (detached sandboxes).
   * Default: a pipe from corral, written after the release (see sendFilter).
   */
  readonly seccompFile?: string;
  /**
   * How long to wait for the init to show its filter in /proc. Default 2 s with a pipe (the run
   * goes on if it is slower: bwrap loads the program or fails), 10 s with a file (a detached
   * sandbox not seen filtered by then is stopped: nobody watches it afterwards).
   */
  readonly filterWaitMs?: number;
  /** Host paths hidden under an empty tmpfs, on top of the usual ones (the runtime's data dir). */
  readonly hide?: readonly string[];
  /** Mount the rootfs read-write: a container's own copy-on-write view of an image. Default false. */
  readonly writableRoot?: boolean;
  readonly onReady?: BackendStartOptions['onReady'];
  /** Told how each limit is enforced, once they all are, just before onReady. */
  readonly onLimits?: (
    limits: Partial<Record<LimitName, LimitReport>>,
    notEnforced: readonly NotEnforced[],
  ) => void;
  /** Told bubblewrap's process as soon as it is started (before the init is ready). */
  readonly onLaunch?: (bwrap: LaunchedProcess) => void;
}

/** A sandbox whose command has been released into its limits. */
export interface LaunchedSandbox {
  readonly bwrap: LaunchedProcess;
  readonly initPid: number;
  readonly cgroup: Cgroup | undefined;
  readonly limits: Partial<Record<LimitName, LimitReport>>;
  readonly notEnforced: NotEnforced[];
  readonly identity: SandboxIdentity;
  /** The userspace monitor holding memory/cpus where cgroups cannot (one-shot runs only). */
  readonly userspace: ResourceHandle | undefined;
  /** bwrap's own process when it lives in the sandbox's cgroup (warm starts): never signalled. */
  readonly monitorPid?: number;
  /** Parks a warm-start spare for the next run of this shape; call once the run is over. */
  readonly replenish?: () => void;
}

/**
 * The one start sequence for every sandbox: launch bwrap with the init held before exec, create
 * the cgroup meanwhile, read the init's pid, move it into the cgroup, set its rlimits as the
 * sandbox uid, then let it exec. No untrusted instruction runs outside the limits.
 */
export async function launchSandbox(
  tools: LaunchTools,
  spec: ResolvedSpec,
  options: SandboxLaunchOptions,
): Promise<LaunchedSandbox> {
  const who = sandboxIdentity(spec, tools.hostUid, tools.hostGid);
  checkHostAccess(spec, who);
  const mounts = planMounts(spec, tools.hostRoot, options.hide, options.writableRoot);
  checkWorkdir(mounts.view, spec.workdir);
  resolveCommand(mounts.view, spec.command[0] as string, spec.env.PATH ?? DEFAULT_PATH, spec.workdir, who);

  const { bwrapPath, prlimitPath, launcher } = tools;
  if (!bwrapPath) {
    throw new UnsupportedError(
      'bubblewrap (bwrap) is not installed; corral needs it to isolate sandboxes on Linux',
      'apt-get install bubblewrap (or dnf install bubblewrap)',
    );
  }
  const { limits, notEnforced, useCgroup, userspace } = planCgroupLimits(
    spec,
    tools.cgroups,
    tools.userspace?.intervalMs,
  );
  const rlimits = rlimitReports(spec.limits);
  if (!prlimitPath && Object.keys(rlimits).length > 0) {
    const fix = 'apt-get install util-linux (it provides prlimit)';
    if (!spec.bestEffort) throw new UnsupportedError('rlimits need prlimit(1), which is not installed', fix);
    for (const k of Object.keys(rlimits) as LimitName[])
      notEnforced.push({ limit: k, reason: 'prlimit(1) is not installed', fix });
  } else {
    Object.assign(limits, rlimits);
  }

  const driver = tools.cgroups.driver;
  if (driver) await collectStaleRunCgroups(driver);

  // Hardening: the system call filter, no nested user namespaces, nothing inherited (seccomp/).
  const filter = sandboxFilter(spec.seccomp);
  const features = await tools.bwrapFeatures(bwrapPath);
  const fds = controlFds({
    block: options.blockFd !== undefined,
    status: options.statusFd !== undefined,
    seccomp: options.seccompFile !== undefined,
  });
  const shape: LaunchRequest = {
    file: prlimitPath ?? bwrapPath,
    args: [],
    env: spec.env,
    // bwrap runs as the sandbox uid, which may not be able to enter corral's own cwd.
    cwd: '/',
    ...(who.switched && { uid: who.uid, gid: who.gid }),
    stdin: options.stdin,
    stdout: options.stdout,
    stderr: options.stderr,
    extraPipes: fds.pipes,
    // Its own session: a terminal's Ctrl-C reaches corral, which decides what the sandbox gets.
    detached: true,
  };
  // A warm start needs a plain one-shot run: pipes from corral, a run cgroup, nobody else's fds.
  const warmable =
    useCgroup && driver !== undefined && fds.count === 3 + fds.pipes && options.cgroupName === undefined;
  // The parked shell sets the rlimits itself (no prlimit exec): only limits it can set exactly.
  const ulimits = ulimitCommands(spec.limits);
  const spare = warmable && prlimitPath && ulimits !== undefined ? tools.warm?.claim(shape) : undefined;
  // A spare holds the descriptors it was started with as /dev/null: bwrap must close exactly those.
  const inherited = (spare ? spare.nullFds : openDescriptors()).filter((fd) => fd >= fds.count);
  const bwrapArgs = buildBwrapArgs(spec, mounts.ops, {
    infoFd: fds.info,
    blockFd: fds.block,
    seccompFd: fds.seccomp,
    closeFds: inherited,
    disableUserns: features.disableUserns && wantsDisableUserns(spec.seccomp),
    dieWithParent: options.dieWithParent,
    ...(fds.status !== undefined && { statusFd: fds.status }),
  });
  let programFd: number | undefined;
  if (options.seccompFile !== undefined) {
    writeFileAtomic(options.seccompFile, filter, 0o600, false);
    programFd = openSync(options.seccompFile, 'r');
  }
  const extraFds = [options.blockFd, options.statusFd, programFd].filter(
    (fd): fd is number => fd !== undefined,
  );
  const request: LaunchRequest = {
    ...shape,
    // Through prlimit when it is there: the rlimits are in place before bwrap even starts
    // (prlimit execs bwrap: same pid, same start time).
    args: prlimitPath ? [...wrapperArgs(spec.limits), '--', bwrapPath, ...bwrapArgs] : bwrapArgs,
    nullFds: inherited,
    ...(extraFds.length > 0 && { extraFds }),
  };
  let launched: LaunchedProcess;
  let warmCgroup: Cgroup | undefined;
  try {
    if (spare && driver) {
      // The spare already lives in its cgroup: limit it, then let it become bwrap, whose init is
      // born limited. bwrap's monitor stays in there too, so --pids gets one more slot for it.
      applyCgroupLimits(driver, spare.cgroup, spec, limits, 1);
      warmCgroup = spare.cgroup;
      launched = spare.start({ ...request, file: bwrapPath, args: bwrapArgs }, ulimits);
    } else {
      launched = launcher.launch(request);
    }
  } catch (err) {
    await spare?.abandon();
    throw err;
  } finally {
    // The child has its copy; bwrap reads it after the release.
    if (programFd !== undefined) closeSync(programFd);
  }
  // The next run of this shape should find a spare ready: parked once this run is over (parking
  // forks corral, which would hold up the run's own start and exit if done meanwhile).
  const pool = warmable ? tools.warm : undefined;
  const replenish = pool
    ? () => pool.park({ ...shape, nullFds: openDescriptors().filter((fd) => fd >= fds.count) })
    : undefined;
  // Output is read from the first byte: once a child exits, Node throws away what it wrote to
  // pipes nobody reads, and a quick command can be done before start() returns.
  const bwrap: LaunchedProcess = {
    ...launched,
    stdout: buffered(launched.stdout),
    stderr: buffered(launched.stderr),
  };
  let cgroup: Cgroup | undefined;
  let initPid: number | undefined;
  let watch: ResourceHandle | undefined;
  try {
    options.onLaunch?.(bwrap);
    // bwrap is creating namespaces and mounts meanwhile; the cgroup is ready before it is.
    cgroup =
      warmCgroup ??
      (useCgroup && driver
        ? createLimitedCgroup(driver, options.cgroupName ?? runCgroupName(), spec, limits)
        : undefined);
    // Pipes come first: a pipe's index is its fd less 3.
    const info = bwrap.extra[0];
    const block = options.blockFd === undefined ? bwrap.extra[fds.block - 3] : undefined;
    const seccompPipe = options.seccompFile === undefined ? bwrap.extra[fds.seccomp - 3] : undefined;
    if (!info || bwrap.extra.length !== fds.pipes)
      throw new LaunchError('bubblewrap was started without its control pipes');
    initPid = await readChildPid(bwrap, info);
    // The init is held before exec (--block-fd): limits apply before the command's first instruction.
    // (A warm start's init was born in it: moving it again would wait for a grace period.)
    try {
      if (!warmCgroup) cgroup?.addProcess(initPid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      throw new LaunchError(
        "bubblewrap ended while it set the sandbox up, before its limits were applied (its own message went to the sandbox's stderr)",
        { initPid },
        { cause: err },
      );
    }
    if (prlimitPath && spec.limits.nofile !== undefined)
      await setNofile(launcher, prlimitPath, initPid, spec.limits.nofile, who);
    if (tools.userspace && userspace.length > 0)
      watch = watchSandbox(tools.userspace.limiter(), spec, userspace, initPid, tools.userspace.intervalMs);
    options.onLimits?.(limits, notEnforced);
    const cg = cgroup;
    await options.onReady?.({
      initPid,
      cgroupName: cg?.name,
      // A warm start's bwrap monitor shares the cgroup but is corral's, not the sandbox's.
      cgroupProcs: () => (cg?.procs() ?? []).filter((pid) => !warmCgroup || pid !== launched.pid),
    });
    if (block) await release(block);
    else writeSync(options.blockFd as number, 'x');
    // Through a pipe, the program goes only after the release: see ALLOW_ALL_PROGRAM for why.
    if (seccompPipe) await sendFilter(seccompPipe, filter);
    const waitMs = options.filterWaitMs ?? (options.seccompFile === undefined ? 2000 : 10_000);
    const filtered = await untilInitFiltered(initPid, waitMs);
    // A detached sandbox has nobody watching it afterwards: it runs filtered or not at all.
    if (filtered === 'timeout' && options.seccompFile !== undefined)
      throw new LaunchError(
        `the sandbox did not show its system call filter within ${waitMs} ms; it was stopped rather than left to run unfiltered`,
      );
    return {
      bwrap,
      initPid,
      cgroup,
      limits,
      notEnforced,
      identity: who,
      userspace: watch,
      ...(warmCgroup && { monitorPid: launched.pid }),
      ...(replenish && { replenish }),
    };
  } catch (err) {
    await watch?.release();
    if (initPid !== undefined) launcher.signal(initPid, 'SIGKILL');
    // The cgroup kill catches anything already moved in.
    bwrap.kill('SIGKILL');
    await bwrap.exit.catch(() => undefined);
    await cgroup?.destroy().catch(() => undefined);
    throw err;
  }
}

function buffered(stream: Readable | null): Readable | null {
  return stream ? stream.pipe(new PassThrough()) : null;
}
