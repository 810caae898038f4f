import { PassThrough, type Readable } from 'node:stream';
import { LaunchError, UnsupportedError } from '../../errors.js';
import { OsLauncher } from '../../process/os-launcher.js';
import type { LaunchedProcess, ProcessLauncher } from '../../process/types.js';
import type {
  BackendStartOptions,
  LimitReport,
  NotEnforced,
  RunningSandbox,
  SandboxBackend,
} from '../../run/backend.js';
import type { CapabilityReport } from '../../capabilities/types.js';
import { DEFAULT_PATH } from '../../spec/resolve.js';
import type { LimitName, ResolvedSpec } from '../../spec/types.js';
import { formatBytes } from '../../spec/units.js';
import { buildBwrapArgs } from './bwrap-args.js';
import { readChildPid, release } from './bwrap-launch.js';
import { detectCgroups, type CgroupDetection } from './cgroup/detect.js';
import { collectStaleRunCgroups, runCgroupName } from './cgroup/gc.js';
import type { Cgroup, CgroupController } from './cgroup/types.js';
import { findHostTool } from './host-tools.js';
import { checkHostAccess, sandboxIdentity, type SandboxIdentity } from './identity.js';
import { LinuxSandbox } from './linux-sandbox.js';
import { planMounts } from './mount-plan.js';
import { checkWorkdir, resolveCommand } from './resolve-command.js';
import { nofileArgs, rlimitReports, wrapperArgs } from './rlimits.js';
import { probeLinux } from './capabilities.js';
import { bwrapFeatures, NO_BWRAP_FEATURES, type BwrapFeatures } from './bwrap-features.js';
import { openDescriptors } from './inherited-fds.js';
import {
  sandboxFilter,
  sendFilter,
  untilInitFiltered,
  wantsDisableUserns,
} from './seccomp/sandbox-filter.js';
// Userspace fallback for memory and cpus where no cgroup controller can hold them.
import { DEFAULT_INTERVAL_MS } from '../../limits/config.js';
import type { LimitKind, ResourceHandle, ResourceLimiter } from '../../limits/types.js';
import { procLimiter, userspaceLimitReport, watchSandbox } from './userspace-limits.js';

export interface LinuxBackendOptions {
  readonly launcher?: ProcessLauncher;
  /** Which cgroup driver to use; tests pass a v2 driver over a fake cgroupfs tree. */
  readonly cgroups?: () => CgroupDetection;
  readonly bwrapPath?: string;
  readonly prlimitPath?: string;
  readonly hostUid?: number;
  readonly hostGid?: number;
  /** The host root the sandbox sees (tests use a fixture tree). Default `/`. */
  readonly hostRoot?: string;
  /** How often to look for OOM kills on cgroup v1. Default 50 ms. */
  readonly oomPollMs?: number;
  /** What the installed bubblewrap supports. Default: read from `bwrap --version`, except with an
   * injected launcher (tests), where no optional feature is assumed. */
  readonly bwrapFeatures?: BwrapFeatures;
  /** Holds memory and cpus when cgroups cannot. Default: the /proc-sampling userspace limiter. */
  readonly userspaceLimiter?: ResourceLimiter;
  /** Sampling interval of the userspace limiter. Default 500 ms. */
  readonly userspaceIntervalMs?: number;
}

const CGROUP_LIMITS: readonly { limit: LimitName; controller: CgroupController; flag: string }[] = [
  { limit: 'memory', controller: 'memory', flag: '--memory' },
  { limit: 'cpus', controller: 'cpu', flag: '--cpus' },
  { limit: 'pids', controller: 'pids', flag: '--pids' },
];

/** Linux: bubblewrap for isolation, cgroups and rlimits for limits. */
export class LinuxBackend implements SandboxBackend {
  readonly name = 'linux-bubblewrap';
  private readonly launcher: ProcessLauncher;
  private detection: CgroupDetection | undefined;
  private userspace: ResourceLimiter | undefined;

  constructor(private readonly options: LinuxBackendOptions = {}) {
    this.launcher = options.launcher ?? new OsLauncher();
  }

  capabilities(): Promise<CapabilityReport> {
    return probeLinux({
      cgroups: this.cgroups(),
      launcher: this.launcher,
      bwrapPath: this.bwrapPath(),
      prlimitPath: this.prlimitPath(),
    });
  }

  async start(spec: ResolvedSpec, options: BackendStartOptions): Promise<RunningSandbox> {
    const who = sandboxIdentity(spec, this.options.hostUid, this.options.hostGid);
    checkHostAccess(spec, who);
    const mounts = planMounts(spec, this.options.hostRoot);
    checkWorkdir(mounts.view, spec.workdir);
    resolveCommand(mounts.view, spec.command[0] as string, spec.env.PATH ?? DEFAULT_PATH, spec.workdir, who);

    const bwrapPath = this.bwrapPath();
    if (!bwrapPath) {
      throw new UnsupportedError(
        'bubblewrap (bwrap) is not installed; corral needs it to isolate sandboxes on Linux',
        'apt-get install bubblewrap (or dnf install bubblewrap)',
      );
    }
    const { limits, notEnforced, useCgroup, userspace } = this.planLimits(spec);
    const prlimitPath = this.prlimitPath();
    const rlimits = rlimitReports(spec.limits);
    if (!prlimitPath && Object.keys(rlimits).length > 0) {
      const fix = 'apt-get install util-linux (it provides prlimit)';
      if (!spec.bestEffort)
        throw new UnsupportedError('rlimits need prlimit(1), which is not installed', fix);
      for (const k of Object.keys(rlimits) as LimitName[])
        notEnforced.push({ limit: k, reason: 'prlimit(1) is not installed', fix });
    } else {
      Object.assign(limits, rlimits);
    }

    const driver = this.cgroups().driver;
    if (driver) await collectStaleRunCgroups(driver);

    // Hardening (seccomp, nested user namespaces, inherited descriptors): see seccomp/.
    const filter = sandboxFilter(spec.seccomp);
    const features = await this.bwrapFeatures(bwrapPath);
    const inherited = openDescriptors().filter((fd) => fd > 5);
    const bwrapArgs = buildBwrapArgs(spec, mounts.ops, {
      infoFd: 3,
      blockFd: 4,
      seccompFd: 5,
      closeFds: inherited,
      disableUserns: features.disableUserns && wantsDisableUserns(spec.seccomp),
      dieWithParent: options.dieWithParent ?? true,
    });
    const bwrap = this.launcher.launch({
      // Through prlimit when it is there: the rlimits are in place before bwrap even starts.
      file: prlimitPath ?? bwrapPath,
      args: prlimitPath ? [...wrapperArgs(spec.limits), '--', bwrapPath, ...bwrapArgs] : bwrapArgs,
      nullFds: inherited,
      env: spec.env,
      // bwrap runs as the sandbox uid, which may not be able to enter corral's own cwd.
      cwd: '/',
      ...(who.switched && { uid: who.uid, gid: who.gid }),
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr,
      extraPipes: 3,
      // Its own session: a terminal's Ctrl-C reaches corral, which decides what the sandbox gets.
      detached: true,
    });
    // Output is read from the first byte: once a child exits, Node throws away what it wrote to
    // pipes nobody reads, and a quick command can be done before start() returns.
    const output: LaunchedProcess = {
      ...bwrap,
      stdout: buffered(bwrap.stdout),
      stderr: buffered(bwrap.stderr),
    };
    let cgroup: Cgroup | undefined;
    let initPid: number | undefined;
    let watch: ResourceHandle | undefined;
    try {
      // bwrap is creating namespaces and mounts meanwhile; the cgroup is ready before it is.
      cgroup = useCgroup && driver ? this.createCgroup(spec, limits) : undefined;
      const [info, block, seccompPipe] = bwrap.extra;
      if (!info || !block || !seccompPipe)
        throw new LaunchError('bubblewrap was started without its control pipes');
      initPid = await readChildPid(bwrap, info);
      // The init is held before exec (--block-fd): limits apply before the command's first instruction.
      cgroup?.addProcess(initPid);
      if (prlimitPath && spec.limits.nofile !== undefined)
        await this.setNofile(prlimitPath, initPid, spec.limits.nofile, who);
      watch = this.watch(spec, userspace, initPid);
      const cg = cgroup;
      await options.onReady?.({ initPid, cgroupName: cg?.name, cgroupProcs: () => cg?.procs() ?? [] });
      await release(block);
      await sendFilter(seccompPipe, filter);
      await untilInitFiltered(initPid);
      return new LinuxSandbox({
        bwrap: output,
        initPid,
        cgroup,
        launcher: this.launcher,
        limits,
        notEnforced,
        userspace: watch,
        oomPollMs:
          cgroup?.version === 'v1' && spec.limits.memoryBytes !== undefined
            ? (this.options.oomPollMs ?? 50)
            : undefined,
      });
    } catch (err) {
      await watch?.release();
      if (initPid !== undefined) this.launcher.signal(initPid, 'SIGKILL');
      await abandon(bwrap, cgroup);
      throw err;
    }
  }

  private planLimits(spec: ResolvedSpec): {
    limits: Partial<Record<LimitName, LimitReport>>;
    notEnforced: NotEnforced[];
    useCgroup: boolean;
    userspace: LimitKind[];
  } {
    const detection = this.cgroups();
    const limits: Partial<Record<LimitName, LimitReport>> = {};
    const notEnforced: NotEnforced[] = [];
    const userspace: LimitKind[] = [];
    const requested = {
      memory: spec.limits.memoryBytes,
      cpus: spec.limits.cpus,
      pids: spec.limits.pids,
    } as const;
    for (const { limit, controller, flag } of CGROUP_LIMITS) {
      if (requested[limit as keyof typeof requested] === undefined) continue;
      if (detection.driver?.controllers.has(controller)) continue;
      const problem = detection.problems[0] ?? {
        reason: `the cgroup ${controller} controller is not available`,
        fix: `enable the ${controller} controller`,
      };
      if (limit === 'memory' || limit === 'cpus') {
        // No honest userspace pids limit exists (a monitor sees forks too late); these two do.
        limits[limit] = userspaceLimitReport(limit, spec, problem.reason, this.userspaceIntervalMs());
        userspace.push(limit);
        continue;
      }
      if (!spec.bestEffort) {
        throw new UnsupportedError(
          `${flag} cannot be enforced on this host: ${problem.reason}`,
          `${problem.fix}; or pass --best-effort to run without it`,
          { limit },
        );
      }
      notEnforced.push({ limit, reason: problem.reason, fix: problem.fix });
      limits[limit] = {
        value: display(limit, spec),
        enforcement: 'none',
        mechanism: 'none',
        note: problem.reason,
      };
    }
    // A cgroup is used whenever one can be made, even with no limits: it is also the accounting.
    return { limits, notEnforced, useCgroup: detection.driver !== undefined, userspace };
  }

  private createCgroup(
    spec: ResolvedSpec,
    limits: Partial<Record<LimitName, LimitReport>>,
  ): Cgroup | undefined {
    const driver = this.cgroups().driver;
    if (!driver) return undefined;
    const want = {
      ...(spec.limits.memoryBytes !== undefined &&
        driver.controllers.has('memory') && { memoryBytes: spec.limits.memoryBytes }),
      ...(spec.limits.cpus !== undefined && driver.controllers.has('cpu') && { cpus: spec.limits.cpus }),
      ...(spec.limits.pids !== undefined && driver.controllers.has('pids') && { pids: spec.limits.pids }),
    };
    let cg: Cgroup;
    try {
      cg = driver.create(runCgroupName());
    } catch (err) {
      if (Object.keys(want).length === 0) return undefined; // accounting only: run without it
      throw new LaunchError(
        `cannot create a cgroup under ${driver.base}: ${(err as Error).message}`,
        { base: driver.base },
        { cause: err },
      );
    }
    try {
      const applied = cg.apply(want);
      for (const [limit, mechanism] of Object.entries(applied) as ['memory' | 'cpus' | 'pids', string][]) {
        limits[limit] = { value: display(limit, spec), enforcement: 'kernel', mechanism };
      }
    } catch (err) {
      void cg.destroy().catch(() => undefined);
      throw new LaunchError(
        `the kernel refused a cgroup limit in ${cg.location}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    return cg;
  }

  private async setNofile(
    prlimitPath: string,
    pid: number,
    nofile: number,
    who: SandboxIdentity,
  ): Promise<void> {
    // prlimit runs as the sandbox uid: changing another uid's limits needs CAP_SYS_RESOURCE,
    // which root lacks in some containers, while lowering a same-uid process's never does.
    const p = this.launcher.launch({
      file: prlimitPath,
      cwd: '/',
      ...(who.switched && { uid: who.uid, gid: who.gid }),
      args: nofileArgs(pid, nofile),
      env: { PATH: DEFAULT_PATH, LANG: 'C' },
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
    });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const e = await p.exit;
    if (e.code !== 0)
      throw new LaunchError(`prlimit failed to set the sandbox's rlimits: ${err.trim() || `exit ${e.code}`}`);
  }

  private watch(spec: ResolvedSpec, limits: LimitKind[], initPid: number): ResourceHandle | undefined {
    if (limits.length === 0) return undefined;
    this.userspace ??= this.options.userspaceLimiter ?? procLimiter();
    return watchSandbox(this.userspace, spec, limits, initPid, this.userspaceIntervalMs());
  }
  private userspaceIntervalMs(): number {
    return this.options.userspaceIntervalMs ?? DEFAULT_INTERVAL_MS;
  }

  private cgroups(): CgroupDetection {
    this.detection ??= this.options.cgroups ? this.options.cgroups() : detectCgroups();
    return this.detection;
  }
  private bwrapFeatures(bwrapPath: string): Promise<BwrapFeatures> {
    if (this.options.bwrapFeatures) return Promise.resolve(this.options.bwrapFeatures);
    if (this.options.launcher) return Promise.resolve(NO_BWRAP_FEATURES);
    return bwrapFeatures(this.launcher, bwrapPath);
  }
  // Looked up once per backend: PATH searches are measurable on a path taken thousands of times.
  private tools: { bwrap: string | undefined; prlimit: string | undefined } | undefined;
  private bwrapPath(): string | undefined {
    this.tools ??= this.findTools();
    return this.tools.bwrap;
  }
  private prlimitPath(): string | undefined {
    this.tools ??= this.findTools();
    return this.tools.prlimit;
  }
  private findTools() {
    return {
      bwrap: this.options.bwrapPath ?? findHostTool('bwrap'),
      prlimit: this.options.prlimitPath ?? findHostTool('prlimit'),
    };
  }
}

function buffered(stream: Readable | null): Readable | null {
  return stream ? stream.pipe(new PassThrough()) : null;
}

async function abandon(bwrap: LaunchedProcess, cgroup: Cgroup | undefined): Promise<void> {
  // The cgroup kill catches anything already moved in.
  bwrap.kill('SIGKILL');
  await bwrap.exit.catch(() => undefined);
  await cgroup?.destroy().catch(() => undefined);
}

function display(limit: LimitName, spec: ResolvedSpec): string {
  if (limit === 'memory') return formatBytes(spec.limits.memoryBytes ?? 0);
  if (limit === 'cpus') return String(spec.limits.cpus);
  return String(spec.limits.pids);
}
