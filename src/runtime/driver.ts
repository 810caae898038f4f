import type { LaunchedProcess, ProcessLauncher, StdioTarget } from '../process/types.js';
import type { LimitReport, NotEnforced, SandboxStats, SandboxUsage } from '../run/backend.js';
import type { LimitName, ResolvedSpec } from '../spec/types.js';
import type { ContainerPaths } from './paths.js';
import type { ContainerTraceConfig, ProcRef, RecorderRecord, RootfsRecord, RunRecord } from './types.js';

export interface DriverStartRequest {
  /** The spec to run: PORT and the image's root already filled in. */
  readonly spec: ResolvedSpec;
  readonly paths: ContainerPaths;
  readonly cgroupName: string;
  /** Open fds the sandbox writes to directly: no corral process stays to copy its output. */
  readonly stdoutFd: number;
  readonly stderrFd: number;
  readonly statusFd: number;
  /** The block FIFO, opened read-write. */
  readonly blockFd: number;
  /** Host paths to hide inside the sandbox (the data dir). */
  readonly hide: readonly string[];
  /** The rootfs is the container's own copy-on-write view of an image: mount it read-write. */
  readonly writableRoot: boolean;
  /**
   * Called once the init is in its cgroup with its rlimits, before the command may run: the
   * place to record the processes (so a crash from here on can be cleaned up) and free the port.
   */
  readonly onReady: (run: ReadyRun) => Promise<void>;
}

export interface ReadyRun {
  readonly bwrap: ProcRef;
  readonly init: ProcRef;
  /** The cgroup the init is in, if the host gave it one. */
  readonly cgroup: string | undefined;
  readonly limits: Partial<Record<LimitName, LimitReport>>;
  readonly notEnforced: readonly NotEnforced[];
}

export interface DriverRun {
  readonly bwrap: ProcRef;
  readonly init: ProcRef;
  readonly cgroup: string | undefined;
  readonly limits: Partial<Record<LimitName, LimitReport>>;
  readonly notEnforced: readonly NotEnforced[];
}

export interface DriverExecOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly workdir: string;
  /** Host path of the container's root filesystem; undefined: the host root (read-only). */
  readonly rootfs: string | undefined;
  readonly paths: ContainerPaths;
  /** A seccomp program (struct sock_filter array) loaded on the command on top of the container's own. */
  readonly seccomp?: Uint8Array;
  readonly stdin: StdioTarget;
  readonly stdout: StdioTarget;
  readonly stderr: StdioTarget;
}

/** What the recorder of a traced container's run needs to know. */
export interface RecorderRequest {
  /** The run's init, held before exec: the recorder sees the command's first exec. */
  readonly init: ProcRef;
  readonly cgroup: string | undefined;
  /** `event.sandbox`: the container's name. */
  readonly label: string;
  /** The container's trace.jsonl, appended to. */
  readonly file: string;
  readonly trace: ContainerTraceConfig;
}

/** Resource counters of a run (cumulative CPU in µs for the percent computation). */
export interface DriverStats extends SandboxStats {
  readonly cpuUsageUs: number | null;
}

/**
 * What the lifecycle runtime needs from the operating system. The runtime keeps the state
 * machine, files and locks; the driver starts, signals, measures and cleans up sandboxes.
 * Linux: bubblewrap + cgroups (src/platform/linux/container); tests: an in-memory fake.
 */
export interface ContainerDriver {
  readonly name: string;
  readonly launcher: ProcessLauncher;
  /** This process, as lock owners are recorded. */
  self(): ProcRef;
  identify(pid: number): ProcRef | undefined;
  alive(ref: ProcRef): boolean;
  /** Creates the FIFO the init blocks on. */
  makeFifo(file: string): Promise<void>;
  /** True when a copy-on-write overlay can be mounted (else images are copied). */
  readonly overlay: boolean;
  prepareRootfs(image: { name: string; rootfs: string }, paths: ContainerPaths): Promise<RootfsRecord>;
  /** Unmounts what prepareRootfs mounted; safe after a crash and when called twice. */
  releaseRootfs(paths: ContainerPaths, rootfs: RootfsRecord): Promise<void>;
  /** Mount points still present at or under `dir` (a removal must not delete through one). */
  mountsUnder(dir: string): string[];
  start(request: DriverStartRequest): Promise<DriverRun>;
  /** The exit code bubblewrap reported for the run, once it has ended. */
  readExitCode(paths: ContainerPaths): number | undefined;
  /** Decodes an exit code into code and signal (128+N is signal N). */
  decodeExit(code: number | null): { exitCode: number | null; signal: NodeJS.Signals | null };
  /** Host pid of the container's main command (the init's first child). */
  mainPid(run: RunRecord): number | undefined;
  /**
   * Signals the container's processes. Any signal but SIGKILL goes to each process except the
   * init (whose death would SIGKILL the rest at once); SIGKILL ends the whole tree.
   * Returns how many processes were signalled.
   */
  signal(run: RunRecord, signal: NodeJS.Signals): number;
  stats(run: RunRecord): DriverStats | undefined;
  usage(run: RunRecord): SandboxUsage;
  /**
   * Kills whatever is left of a run and removes its cgroup. `thorough` also hunts down processes
   * an interrupted operation started but never recorded (slower: it scans every process). Call it
   * instead of killing the run first: the hunt knows some of them (a trace recorder) only by a
   * file they hold open while the run lives.
   */
  releaseRun(run: RunRecord, paths: ContainerPaths, thorough: boolean): Promise<void>;
  /** Fails, with the reason and the fix, when this host cannot trace a container as asked. */
  checkTrace(trace: ContainerTraceConfig): Promise<void>;
  /**
   * Starts the detached recorder of a run: it appends every process event of the container (and
   * of commands exec'd into it) to the trace file, outlives corral, and ends when the init exits.
   * releaseRun stops it.
   */
  startRecorder(request: RecorderRequest): Promise<RecorderRecord>;
  /** Starts the detached process that ends the run when its wall-clock timeout expires. */
  startWatcher(run: RunRecord, timeoutMs: number, paths: ContainerPaths): Promise<ProcRef | undefined>;
  /** Starts a command in the container, under the container's system call filter. */
  exec(
    run: RunRecord,
    spec: ResolvedSpec,
    command: readonly string[],
    options: DriverExecOptions,
  ): Promise<LaunchedProcess>;
}
