import { OsLauncher } from '../../process/os-launcher.js';
import type { ProcessLauncher } from '../../process/types.js';
import type { BackendStartOptions, RunningSandbox, SandboxBackend } from '../../run/backend.js';
import type { CapabilityReport } from '../../capabilities/types.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { detectCgroups, type CgroupDetection } from './cgroup/detect.js';
import { findHostTool } from './host-tools.js';
import { LinuxSandbox } from './linux-sandbox.js';
import { launchSandbox, type LaunchTools } from './sandbox-launch.js';
import { probeLinux } from './capabilities.js';

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
}

/** Linux: bubblewrap for isolation, cgroups and rlimits for limits. */
export class LinuxBackend implements SandboxBackend {
  readonly name = 'linux-bubblewrap';
  private readonly launcher: ProcessLauncher;
  private detection: CgroupDetection | undefined;

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
    const launched = await launchSandbox(this.tools(), spec, {
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr,
      dieWithParent: options.dieWithParent ?? true,
      ...(options.onReady && { onReady: options.onReady }),
    });
    const { bwrap, initPid, cgroup, limits, notEnforced } = launched;
    return new LinuxSandbox({
      bwrap,
      initPid,
      cgroup,
      launcher: this.launcher,
      limits,
      notEnforced,
      oomPollMs:
        cgroup?.version === 'v1' && spec.limits.memoryBytes !== undefined
          ? (this.options.oomPollMs ?? 50)
          : undefined,
    });
  }

  /** What every sandbox launch on this host needs (shared with the lifecycle runtime). */
  tools(): LaunchTools {
    return {
      launcher: this.launcher,
      cgroups: this.cgroups(),
      bwrapPath: this.bwrapPath(),
      prlimitPath: this.prlimitPath(),
      hostUid: this.options.hostUid,
      hostGid: this.options.hostGid,
      hostRoot: this.options.hostRoot,
    };
  }

  private cgroups(): CgroupDetection {
    this.detection ??= this.options.cgroups ? this.options.cgroups() : detectCgroups();
    return this.detection;
  }
  private bwrapPath(): string | undefined {
    return this.options.bwrapPath ?? findHostTool('bwrap');
  }
  private prlimitPath(): string | undefined {
    return this.options.prlimitPath ?? findHostTool('prlimit');
  }
}
