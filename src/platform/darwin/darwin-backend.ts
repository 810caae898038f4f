import { mkdtempSync, realpathSync, rmSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LaunchError, UnsupportedError } from '../../errors.js';
import { DEFAULT_INTERVAL_MS } from '../../limits/config.js';
import type { Clock, ResourceHandle, TreeSampler } from '../../limits/types.js';
import { UserspaceLimiter } from '../../limits/userspace-limiter.js';
import { OsLauncher } from '../../process/os-launcher.js';
import type { LaunchedProcess, ProcessLauncher } from '../../process/types.js';
import type { CapabilityReport } from '../../capabilities/types.js';
import type { BackendStartOptions, RunningSandbox, SandboxBackend } from '../../run/backend.js';
import { DEFAULT_PATH, DEFAULT_SANDBOX_ID } from '../../spec/resolve.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { probeDarwin } from './capabilities.js';
import { planDarwinLimits } from './darwin-limits.js';
import { DarwinSandbox } from './darwin-sandbox.js';
import { resolveHostCommand } from './host-command.js';
import { generateProfile } from './profile.js';
import type { SeatbeltPolicy } from './profile-types.js';
import { PsSampler } from './ps-sampler.js';
import { addressSpaceReport, rlimitWrapper } from './rlimit-wrapper.js';
import { readWrapperStatus } from './wrapper-status.js';

export const SANDBOX_EXEC_PATH = '/usr/bin/sandbox-exec';

export interface DarwinBackendOptions {
  readonly launcher?: ProcessLauncher;
  /** Default `/usr/bin/sandbox-exec`, always by absolute path: never looked up on PATH. */
  readonly sandboxExecPath?: string;
  /** How often the monitor samples the tree. Default 500 ms. */
  readonly intervalMs?: number;
  /** One sampler per sandbox. Default: `ps` through the launcher. */
  readonly sampler?: () => TreeSampler;
  readonly clock?: Clock;
  /** Where each run's private workspace is made. Default: the OS temp directory. */
  readonly tmpDir?: string;
  readonly hostUid?: number;
  readonly hostGid?: number;
  /** Canonicalizes paths for the profile (Seatbelt matches real paths: /tmp is /private/tmp). */
  readonly realpath?: (p: string) => string;
}

/**
 * macOS: Seatbelt (sandbox-exec) for isolation, rlimits set by a /bin/sh wrapper before it,
 * and the userspace monitor for memory and CPU. No namespaces, so no mounts: binds appear at
 * their own path, there is no tmpfs, and `rootfs` is a directory the command may use, not `/`.
 */
export class DarwinBackend implements SandboxBackend {
  readonly name = 'darwin-seatbelt';
  private readonly launcher: ProcessLauncher;
  private fineGrainedIokit: Promise<boolean> | undefined;

  constructor(private readonly options: DarwinBackendOptions = {}) {
    this.launcher = options.launcher ?? new OsLauncher();
  }

  capabilities(): Promise<CapabilityReport> {
    return probeDarwin({ launcher: this.launcher, sandboxExecPath: this.sandboxExec() });
  }

  async start(spec: ResolvedSpec, options: BackendStartOptions): Promise<RunningSandbox> {
    refuseMounts(spec);
    const intervalMs = this.options.intervalMs ?? DEFAULT_INTERVAL_MS;
    const plan = planDarwinLimits(spec, intervalMs);
    const real = this.options.realpath ?? ((p: string) => realpathSync.native(p));
    const rootfs = spec.rootfs === undefined ? undefined : real(spec.rootfs);
    const cwd = spec.workdir === '/' && rootfs ? rootfs : spec.workdir;
    const env = sandboxEnv(spec);
    const program = resolveHostCommand(spec.command[0] as string, env.PATH ?? DEFAULT_PATH, cwd);
    const who = this.identity(spec);
    const fineGrainedIokit = spec.macos?.gpu && spec.macos.gpu !== 'none' ? await this.probeIokit() : false;

    const workspace = mkdtempSync(path.join(real(this.options.tmpDir ?? tmpdir()), 'corral-'));
    let leader: LaunchedProcess | undefined;
    let monitor: ResourceHandle | undefined;
    try {
      if (who.switched) chownSync(workspace, who.uid, who.gid);
      const policy: SeatbeltPolicy = {
        workspace,
        rootfs,
        writable: spec.binds.filter((b) => b.mode === 'rw').map((b) => real(b.source)),
        readonly: spec.binds.filter((b) => b.mode === 'ro').map((b) => real(b.source)),
        network: networkPolicy(spec),
        gpu: spec.macos?.gpu ?? 'none',
        fineGrainedIokit,
      };
      const profile = generateProfile(policy);
      const wrapper = rlimitWrapper(
        plan.rlimits,
        [this.sandboxExec(), ...profile.args, program, ...spec.command.slice(1)],
        true,
      );
      leader = this.launcher.launch({
        file: wrapper.file,
        args: wrapper.args,
        env: { ...env, ...workspaceEnv(spec, workspace) },
        cwd,
        ...(who.switched && { uid: who.uid, gid: who.gid }),
        stdin: options.stdin,
        stdout: options.stdout,
        stderr: options.stderr,
        extraPipes: 2,
        // A new session: its pid is the process group every signal reaches at once.
        detached: true,
      });
      const [statusFd, goFd] = leader.extra;
      if (!statusFd || !goFd)
        throw new LaunchError('the sandbox wrapper was started without its control pipes');
      const sampler = this.options.sampler?.() ?? new PsSampler(this.launcher);
      const limiter = new UserspaceLimiter({
        sampler,
        signal: (pid, sig) => this.launcher.signal(pid, sig),
        ...(this.options.clock && { clock: this.options.clock }),
      });
      monitor = limiter.apply({ ...plan.monitor, intervalMs });
      monitor.assign(leader.pid);
      const status = await readWrapperStatus(leader, statusFd);
      if (!status.ok)
        throw new LaunchError(`cannot set ${status.failed} for the sandbox; its message is above`);
      const limits = { ...wrapper.reports, ...plan.monitored };
      const asBytes = plan.rlimits.addressSpaceBytes;
      if (asBytes !== undefined && status.addressSpace !== 'unset')
        limits.addressSpace = addressSpaceReport(asBytes, status.addressSpace);
      const sandbox = new DarwinSandbox({
        leader,
        launcher: this.launcher,
        monitor,
        sampler,
        limits,
        notEnforced: plan.notEnforced,
        workspace,
      });
      await options.onReady?.({ initPid: leader.pid, cgroupName: undefined, cgroupProcs: () => [] });
      goFd.end('go\n');
      return sandbox;
    } catch (err) {
      await monitor?.release();
      if (leader) {
        this.launcher.signal(-leader.pid, 'SIGKILL');
        leader.kill('SIGKILL');
        await leader.exit.catch(() => undefined);
      }
      rmSync(workspace, { recursive: true, force: true });
      throw err;
    }
  }

  private identity(spec: ResolvedSpec): { switched: boolean; uid: number; gid: number } {
    const uid = this.options.hostUid ?? process.getuid?.() ?? 0;
    const gid = this.options.hostGid ?? process.getgid?.() ?? 0;
    // As root, the command must not run as root: Seatbelt confines it, but root's files are its own.
    if (uid !== 0) return { switched: false, uid, gid };
    return {
      switched: true,
      uid: spec.user?.uid ?? DEFAULT_SANDBOX_ID,
      gid: spec.user?.gid ?? DEFAULT_SANDBOX_ID,
    };
  }

  private sandboxExec(): string {
    return this.options.sandboxExecPath ?? SANDBOX_EXEC_PATH;
  }

  /** Whether this macOS accepts the newer IOKit operation names (older releases refuse them). */
  private probeIokit(): Promise<boolean> {
    this.fineGrainedIokit ??= (async () => {
      const p = this.launcher.launch({
        file: this.sandboxExec(),
        args: ['-p', '(version 1)(allow default)(allow iokit-open-service)', '/usr/bin/true'],
        env: { PATH: '/usr/bin:/bin' },
        cwd: '/',
        stdin: 'ignore',
        stdout: 'ignore',
        stderr: 'ignore',
      });
      return (await p.exit.catch(() => ({ code: 1 }))).code === 0;
    })();
    return this.fineGrainedIokit;
  }
}

function refuseMounts(spec: ResolvedSpec): void {
  // The default filter is what the platform offers (nothing here, as the capability report says);
  // a policy someone wrote must not be silently ignored.
  if (spec.seccomp.mode === 'custom') {
    throw new UnsupportedError(
      'seccomp: macOS has no system call filter to load a policy into (Seatbelt filters operations instead)',
      'drop --seccomp, or use --seccomp none',
    );
  }
  if (spec.tmpfs.length > 0) {
    throw new UnsupportedError(
      `--tmpfs ${spec.tmpfs[0]}: macOS has no mount namespaces, so a private tmpfs cannot be mounted for the sandbox`,
      'drop --tmpfs; every sandbox gets a private writable workspace as HOME and TMPDIR',
    );
  }
  const moved = spec.binds.find((b) => b.source !== b.target);
  if (moved) {
    throw new UnsupportedError(
      `--${moved.mode} ${moved.source}:${moved.target}: macOS cannot show a host path at another path (no mount namespaces)`,
      `bind it at its own path: --${moved.mode} ${moved.source}`,
    );
  }
}

function networkPolicy(spec: ResolvedSpec): SeatbeltPolicy['network'] {
  if (spec.network === 'host') return { mode: 'full' };
  const ports = spec.macos?.localhost;
  if (ports && (ports.bind.length > 0 || ports.connect.length > 0))
    return { mode: 'localhost', bind: ports.bind, connect: ports.connect };
  return { mode: 'none' };
}

/** Homebrew's tools are where a Mac developer expects them, unless the spec set its own PATH. */
const DARWIN_PATH = `/opt/homebrew/bin:/opt/homebrew/sbin:${DEFAULT_PATH}`;

function sandboxEnv(spec: ResolvedSpec): Record<string, string> {
  return { ...spec.env, ...(spec.env.PATH === DEFAULT_PATH && { PATH: DARWIN_PATH }) };
}

/** HOME and TMPDIR point into the private workspace unless the spec chose them. */
function workspaceEnv(spec: ResolvedSpec, workspace: string): Record<string, string> {
  return {
    // resolveSpec defaults HOME to /tmp, which the profile does not open on macOS.
    ...(spec.env.HOME === '/tmp' && { HOME: workspace }),
    ...(spec.env.TMPDIR === undefined && { TMPDIR: `${workspace}/` }),
  };
}
