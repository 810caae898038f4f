import { OsLauncher } from '../../process/os-launcher.js';
import type { ProcessLauncher } from '../../process/types.js';
import type { BackendStartOptions, RunningSandbox, SandboxBackend } from '../../run/backend.js';
import type { CapabilityReport } from '../../capabilities/types.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { detectCgroups, type CgroupDetection } from './cgroup/detect.js';
import { findHostTool } from './host-tools.js';
import { LinuxSandbox } from './linux-sandbox.js';
import { launchSandbox, type LaunchTools } from './sandbox-launch.js';
import { WarmPool } from './warm/warm-pool.js';
import { defaultDataDir } from '../../runtime/data-dir.js';
import { probeLinux } from './capabilities.js';
// Userspace fallback for memory and cpus where no cgroup controller can hold them.
import { DEFAULT_INTERVAL_MS } from '../../limits/config.js';
import type { ResourceLimiter } from '../../limits/types.js';
import { procLimiter } from './userspace-limits.js';
import { bwrapFeatures, NO_BWRAP_FEATURES, type BwrapFeatures } from './bwrap-features.js';

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
  /**
   * Keep one parked spare per stdio shape, already in a fresh cgroup, so the next run skips the
   * cgroup move and the fork (see warm/warm-pool.ts). Worth it in a process that runs many
   * sandboxes; the CLI turns it off. Default: true, unless CORRAL_WARM_STARTS=0.
   */
  readonly warmStarts?: boolean;
}

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
    const { bwrap, initPid, cgroup, limits, notEnforced, userspace, monitorPid, replenish } =
      await launchSandbox(this.tools(), spec, {
        stdin: options.stdin,
        stdout: options.stdout,
        stderr: options.stderr,
        dieWithParent: options.dieWithParent ?? true,
        // The containers' data dir holds their logs and root filesystems: no business of a run's.
        hide: [defaultDataDir()],
        ...(options.onReady && { onReady: options.onReady }),
      });
    return new LinuxSandbox({
      bwrap,
      initPid,
      cgroup,
      launcher: this.launcher,
      limits,
      notEnforced,
      userspace,
      monitorPid,
      replenish,
      oomPollMs:
        cgroup?.version === 'v1' && spec.limits.memoryBytes !== undefined
          ? (this.options.oomPollMs ?? 50)
          : undefined,
    });
  }

  /**
   * What every sandbox launch on this host needs; shared with the lifecycle runtime, which passes
   * `detached` to leave out the userspace monitor (no corral process stays to run it).
   */
  tools(detached = false): LaunchTools {
    return {
      launcher: this.launcher,
      cgroups: this.cgroups(),
      bwrapPath: this.bwrapPath(),
      prlimitPath: this.prlimitPath(),
      hostUid: this.options.hostUid,
      hostGid: this.options.hostGid,
      hostRoot: this.options.hostRoot,
      bwrapFeatures: (bwrapPath) => this.bwrapFeatures(bwrapPath),
      ...(!detached && {
        warm: this.warmPool(),
        userspace: {
          limiter: () => (this.userspace ??= this.options.userspaceLimiter ?? procLimiter()),
          intervalMs: this.userspaceIntervalMs(),
        },
      }),
    };
  }

  private bwrapFeatures(bwrapPath: string): Promise<BwrapFeatures> {
    if (this.options.bwrapFeatures) return Promise.resolve(this.options.bwrapFeatures);
    if (this.options.launcher) return Promise.resolve(NO_BWRAP_FEATURES);
    return bwrapFeatures(this.launcher, bwrapPath);
  }

  private pool: WarmPool | undefined;
  private warmPool(): WarmPool | undefined {
    // Off by default with an injected launcher (tests), like the bwrap feature probe.
    const on = this.options.warmStarts ?? (!this.options.launcher && process.env.CORRAL_WARM_STARTS !== '0');
    const driver = this.cgroups().driver;
    if (!on || !driver) return undefined;
    this.pool ??= new WarmPool(this.launcher, driver);
    return this.pool;
  }

  /** Drops the warm-start spares (their parked shells exit, their cgroups go). */
  async dispose(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }

  private userspaceIntervalMs(): number {
    return this.options.userspaceIntervalMs ?? DEFAULT_INTERVAL_MS;
  }

  private cgroups(): CgroupDetection {
    this.detection ??= this.options.cgroups ? this.options.cgroups() : detectCgroups();
    return this.detection;
  }
  // Looked up once per backend: PATH searches are measurable on a path taken thousands of times.
  private found: { bwrap: string | undefined; prlimit: string | undefined } | undefined;
  private bwrapPath(): string | undefined {
    this.found ??= this.findTools();
    return this.found.bwrap;
  }
  private prlimitPath(): string | undefined {
    this.found ??= this.findTools();
    return this.found.prlimit;
  }
  private findTools() {
    return {
      bwrap: this.options.bwrapPath ?? findHostTool('bwrap'),
      prlimit: this.options.prlimitPath ?? findHostTool('prlimit'),
    };
  }
}
