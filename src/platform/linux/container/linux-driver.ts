import { setTimeout as sleep } from 'node:timers/promises';
import { LaunchError, UnsupportedError } from '../../../errors.js';
import type { LaunchedProcess } from '../../../process/types.js';
import type { SandboxUsage } from '../../../run/backend.js';
import type {
  ContainerDriver,
  DriverExecOptions,
  DriverRun,
  DriverStartRequest,
  DriverStats,
  RecorderRequest,
} from '../../../runtime/driver.js';
import type { ContainerPaths } from '../../../runtime/paths.js';
import type {
  ContainerTraceConfig,
  ProcRef,
  RecorderRecord,
  RootfsRecord,
  RunRecord,
} from '../../../runtime/types.js';
import { DEFAULT_PATH } from '../../../spec/resolve.js';
import type { ResolvedSpec } from '../../../spec/types.js';
import type { Cgroup } from '../cgroup/types.js';
import { findHostTool } from '../host-tools.js';
import { LinuxBackend, type LinuxBackendOptions } from '../linux-backend.js';
import { decodeBwrapExit } from '../linux-sandbox.js';
import { runProbe } from '../../probe.js';
import { childrenOf, descendantsOf } from '../proc-tree.js';
import { launchSandbox } from '../sandbox-launch.js';
import { readExitCode } from './bwrap-status.js';
import { untilCommandExecs } from './command-exec.js';
import { execInContainer } from './exec.js';
import { holdersOf, identify, isAlive } from './proc-identity.js';
import { isMountPoint, mountsUnder, prepareRootfs, releaseRootfs } from './rootfs.js';
import { watcherArgs } from './timeout-watcher.js';
import {
  checkContainerTrace,
  startContainerRecorder,
  stopContainerRecorder,
  writersOf,
} from './trace-recorder.js';

/** Linux containers: bubblewrap started detached, cgroups, nsenter for exec, overlayfs for images. */
export class LinuxContainerDriver implements ContainerDriver {
  readonly name = 'linux-bubblewrap';
  private readonly backend: LinuxBackend;

  constructor(private readonly options: LinuxBackendOptions = {}) {
    this.backend = new LinuxBackend(options);
  }

  get launcher() {
    return this.backend.tools().launcher;
  }
  get overlay(): boolean {
    return (this.options.hostUid ?? process.getuid?.() ?? 0) === 0;
  }

  self(): ProcRef {
    const me = identify('self');
    if (!me) throw new LaunchError('cannot read /proc/self/stat: is /proc mounted?');
    return me;
  }
  identify(pid: number): ProcRef | undefined {
    return identify(pid);
  }
  alive(ref: ProcRef): boolean {
    return isAlive(ref);
  }

  async makeFifo(file: string): Promise<void> {
    const mkfifo = findHostTool('mkfifo');
    if (!mkfifo) throw new UnsupportedError('mkfifo(1) is not installed', 'apt-get install coreutils');
    const r = await runProbe(this.launcher, mkfifo, ['-m', '600', '--', file]);
    if (!r.ok) throw new LaunchError(`cannot create ${file}: ${r.error}`);
  }

  prepareRootfs(image: { name: string; rootfs: string }, paths: ContainerPaths): Promise<RootfsRecord> {
    return prepareRootfs(this.launcher, image, paths, this.overlay);
  }
  async releaseRootfs(paths: ContainerPaths, rootfs: RootfsRecord): Promise<void> {
    if (rootfs.mode === 'overlay' || isMountPoint(paths.rootfs)) await releaseRootfs(this.launcher, paths);
  }
  mountsUnder(dir: string): string[] {
    return mountsUnder(dir);
  }

  async start(req: DriverStartRequest): Promise<DriverRun> {
    let refs: { bwrap: ProcRef; init: ProcRef } | undefined;
    let bwrapPid = -1;
    let planned: Pick<DriverRun, 'limits' | 'notEnforced'> = { limits: {}, notEnforced: [] };
    const launched = await launchSandbox(this.backend.tools(true), req.spec, {
      stdin: 'ignore',
      stdout: req.stdoutFd,
      stderr: req.stderrFd,
      // The container outlives this corral process: nothing may tie it to us.
      dieWithParent: false,
      cgroupName: req.cgroupName,
      blockFd: req.blockFd,
      statusFd: req.statusFd,
      // bwrap reads the program from this file after the FIFO releases it, corral there or not.
      seccompFile: req.paths.seccomp,
      hide: req.hide,
      writableRoot: req.writableRoot,
      onLaunch: (bwrap) => (bwrapPid = bwrap.pid),
      onLimits: (limits, notEnforced) => (planned = { limits, notEnforced }),
      onReady: async (ready) => {
        const bwrap = identify(bwrapPid);
        const init = identify(ready.initPid);
        if (!bwrap || !init) throw new LaunchError('the sandbox ended while it was being set up');
        refs = { bwrap, init };
        await req.onReady({ ...refs, cgroup: ready.cgroupName, ...planned });
      },
    });
    if (!refs) throw new LaunchError('the sandbox started without reporting its processes');
    // "Running" means the command runs: a stop or kill from here on gets its exit code.
    await untilCommandExecs(launched.initPid, launched.bwrap.pid);
    launched.bwrap.unref();
    for (const s of launched.bwrap.extra) s.destroy();
    return {
      ...refs,
      cgroup: launched.cgroup?.name,
      limits: launched.limits,
      notEnforced: launched.notEnforced,
    };
  }

  readExitCode(paths: ContainerPaths): number | undefined {
    return readExitCode(paths.status);
  }
  decodeExit(code: number | null) {
    return decodeBwrapExit(code, null);
  }

  mainPid(run: RunRecord): number | undefined {
    if (!run.init || !isAlive(run.init)) return undefined;
    return childrenOf(run.init.pid)[0];
  }

  signal(run: RunRecord, signal: NodeJS.Signals): number {
    const init = run.init && isAlive(run.init) ? run.init : undefined;
    const cg = this.cgroup(run);
    let n = 0;
    const send = (pid: number) => {
      if (this.launcher.signal(pid, signal)) n++;
    };
    if (signal === 'SIGKILL') {
      // The kernel kills every process of a pid namespace when its init dies.
      if (init) send(init.pid);
      for (const pid of cg?.procs() ?? []) send(pid);
      return n;
    }
    if (!init) return 0;
    const pids = cg ? cg.procs() : descendantsOf(init.pid);
    for (const pid of pids) if (pid !== init.pid) send(pid);
    return n;
  }

  stats(run: RunRecord): DriverStats | undefined {
    const s = this.cgroup(run)?.stats();
    if (!s) return undefined;
    return {
      cpuUserMs: s.cpuUserUs === null ? null : s.cpuUserUs / 1000,
      cpuSystemMs: s.cpuSystemUs === null ? null : s.cpuSystemUs / 1000,
      cpuUsageUs: s.cpuUsageUs,
      memoryBytes: s.memoryCurrentBytes,
      peakMemoryBytes: s.memoryPeakBytes,
      memoryLimitBytes: s.memoryLimitBytes,
      pids: s.pidsCurrent,
    };
  }

  usage(run: RunRecord): SandboxUsage {
    const s = this.cgroup(run)?.stats();
    if (!s) return { cpuUserMs: null, cpuSystemMs: null, peakMemoryBytes: null, oomKilled: false };
    return {
      cpuUserMs: s.cpuUserUs === null ? null : Math.round(s.cpuUserUs / 1000),
      cpuSystemMs: s.cpuSystemUs === null ? null : Math.round(s.cpuSystemUs / 1000),
      peakMemoryBytes: s.memoryPeakBytes,
      oomKilled: s.oomKills > 0,
    };
  }

  async releaseRun(run: RunRecord, paths: ContainerPaths, thorough: boolean): Promise<void> {
    const refs = [run.watcher, run.init, run.bwrap].filter(
      (r): r is ProcRef => r !== undefined && isAlive(r),
    );
    // An operation killed before it recorded its processes: a start's are blocked on the FIFO,
    // a create's port holder keeps the container dir open, a recorder writes the trace. They
    // are waited for like the others: when this returns, none of them is left.
    if (thorough)
      for (const pid of [...holdersOf([paths.block, paths.dir]), ...writersOf(paths.trace)]) {
        const ref = identify(pid);
        if (ref) refs.push(ref);
      }
    for (const r of refs) this.launcher.signal(r.pid, 'SIGKILL');
    await this.cgroup(run)?.destroy();
    for (let i = 0; i < 1000 && refs.some((r) => isAlive(r)); i++) await sleep(2);
    // The logger ends by itself once every writer is gone, after writing what it had read.
    const logger = run.logger;
    for (let i = 0; logger && i < 500 && isAlive(logger); i++) await sleep(2);
    if (logger && isAlive(logger)) this.launcher.signal(logger.pid, 'SIGKILL');
    // After the init: the recorder's last events are the container's exits.
    if (run.trace) await stopContainerRecorder(this.launcher, run.trace.recorder);
  }

  checkTrace(trace: ContainerTraceConfig): Promise<void> {
    return checkContainerTrace(trace);
  }
  startRecorder(request: RecorderRequest): Promise<RecorderRecord> {
    return startContainerRecorder(request);
  }

  async startWatcher(run: RunRecord, timeoutMs: number, paths: ContainerPaths): Promise<ProcRef | undefined> {
    const sh = findHostTool('sh');
    if (!sh || !run.init) return undefined;
    const p = this.launcher.launch({
      file: sh,
      args: watcherArgs(timeoutMs, run.init, run.id, paths.timedOut),
      env: { PATH: DEFAULT_PATH, LANG: 'C' },
      cwd: '/',
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
      detached: true,
    });
    p.unref();
    p.exit.catch(() => undefined);
    return identify(p.pid);
  }

  exec(
    run: RunRecord,
    spec: ResolvedSpec,
    command: readonly string[],
    opts: DriverExecOptions,
  ): Promise<LaunchedProcess> {
    const tools = this.backend.tools(true);
    return execInContainer(
      {
        launcher: this.launcher,
        cgroup: this.cgroup(run),
        hostUid: this.options.hostUid,
        hostGid: this.options.hostGid,
        bwrapPath: tools.bwrapPath,
        bwrapFeatures: tools.bwrapFeatures,
      },
      run,
      spec,
      command,
      opts,
    );
  }

  private cgroup(run: RunRecord): Cgroup | undefined {
    if (!run.cgroup) return undefined;
    return this.backend.tools().cgroups.driver?.open(run.cgroup);
  }
}
