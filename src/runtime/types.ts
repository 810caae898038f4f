import type { LimitReport, NotEnforced, SandboxStats } from '../run/backend.js';
import type { RunReason } from '../run/result.js';
import type { ResolvedSeccomp } from '../spec/seccomp.js';
import type { LimitName, ResolvedSpec } from '../spec/types.js';

/** A host process, told apart from a later one with the same pid by its start time. */
export interface ProcRef {
  readonly pid: number;
  readonly start: string;
}

/**
 * `created`, `running` and `exited` are the steady states. The others are seen while a corral
 * process is in the middle of an operation, or (`broken`) when one died in the middle of it.
 */
export type ContainerStatus =
  'creating' | 'created' | 'starting' | 'running' | 'stopping' | 'exited' | 'removing' | 'broken';

/** Why a container's command ended. `unknown`: its supervisor vanished without saying (host restart). */
export type ExitReason = RunReason | 'unknown';

/** How a container's last run ended. */
export interface ContainerOutcome {
  /** The command's exit status; 128+N when it died of signal N. Null when unknown. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly reason: ExitReason;
  /** ISO 8601 time the command ended (when bubblewrap reported it); null when nobody knows. */
  readonly finishedAt: string | null;
}

/** What `state(name)` reports. */
export interface ContainerState {
  readonly status: ContainerStatus;
  /** ISO time of the last start, once started. */
  readonly startedAt?: string;
  /** Host pid of the container's main command, while running. */
  readonly pid?: number;
  /** Present when `status` is `exited`. */
  readonly outcome?: ContainerOutcome;
  /** For transient states: the corral process doing the operation. */
  readonly busy?: { readonly op: string; readonly pid: number; readonly since: string };
  /** For `broken`: what is wrong and how to clean it up. */
  readonly problem?: string;
}

/** How the container's root filesystem is provided. */
export interface RootfsRecord {
  /** host: the read-only host root; dir: a `--rootfs` directory; overlay/copy: a CoW view of an image. */
  readonly mode: 'host' | 'dir' | 'overlay' | 'copy';
  /** What the sandbox sees as `/` (undefined for the host root). */
  readonly path?: string;
  readonly image?: string;
}

/** How a container is traced, as create recorded it (`create --trace`). */
export interface ContainerTraceConfig {
  /** A tracer backend forced at create (`proc-connector`, `proc-poll`); absent: the best one here. */
  readonly backend?: string;
}

/** The trace recorder of one run: a detached process appending to the container's trace.jsonl. */
export interface RecorderRecord {
  readonly recorder: ProcRef;
  /** The tracer backend it uses. */
  readonly backend: string;
  /**
   * The cgroup it watches for processes that join the container (exec); null when the container
   * has none, and then an exec'd command could not be recorded.
   */
  readonly cgroup: string | null;
}

/** container.json: written once by create. */
export interface ContainerConfig {
  readonly version: 1;
  readonly name: string;
  readonly createdAt: string;
  readonly spec: ResolvedSpec;
  readonly rootfs: RootfsRecord;
  /** A logger stamps each chunk of output with the time it arrived (create --log-timestamps). */
  readonly logTimestamps?: boolean;
  /** Every process the container runs is recorded in its trace.jsonl (create --trace). */
  readonly trace?: ContainerTraceConfig;
}

/** One start of a container, as recorded in state.json. */
export interface RunRecord {
  readonly id: string;
  readonly cgroup?: string;
  /** bubblewrap's monitor process: it reports the exit status, and its death ends the run. */
  readonly bwrap?: ProcRef;
  /** The sandbox's pid-namespace init (bubblewrap's pid 1). */
  readonly init?: ProcRef;
  readonly startedAt?: string;
  readonly limits?: Readonly<Partial<Record<LimitName, LimitReport>>>;
  readonly notEnforced?: readonly NotEnforced[];
  /**
   * The system call filter the command runs under (its spec's; bubblewrap loads it before the
   * command or the start fails). Absent only for runs started before corral had filters.
   */
  readonly seccomp?: ResolvedSeccomp['mode'];
  /** The timeout watcher, when the spec has a wall-clock timeout. */
  readonly watcher?: ProcRef;
  /** The output logger, for containers created with log timestamps. */
  readonly logger?: ProcRef;
  /** The trace recorder, for traced containers. */
  readonly trace?: RecorderRecord;
  /** Set by stop, so the outcome can say the user asked for it. */
  readonly stopRequestedAt?: string;
}

export interface ExitRecord extends ContainerOutcome {
  readonly cpuUserMs: number | null;
  readonly cpuSystemMs: number | null;
  readonly peakMemoryBytes: number | null;
}

/** state.json. */
export interface StateFile {
  readonly status: 'creating' | 'created' | 'starting' | 'running' | 'exited' | 'removing';
  /** The reserved TCP port, passed to the command as PORT and CORRAL_PORT. */
  readonly port: number | null;
  /** The process holding the port between create and start. */
  readonly portHolder?: ProcRef;
  readonly run?: RunRecord;
  readonly exit?: ExitRecord;
  /** What a start interrupted by a crash goes back to. */
  readonly previous?: 'created' | 'exited';
}

/** A container as `list()` and `inspect` show it. */
export interface ContainerInfo {
  readonly name: string;
  readonly createdAt: string;
  readonly command: readonly string[];
  readonly state: ContainerState;
  readonly port: number | null;
  /** Address the service is reachable at from the host (host network only). */
  readonly ip: string | null;
  readonly network: ResolvedSpec['network'];
  readonly rootfs: RootfsRecord;
  readonly limits: Readonly<Partial<Record<LimitName, LimitReport>>>;
  readonly notEnforced: readonly NotEnforced[];
  /** The system call filter: `default` (corral's deny list), `none`, or `custom` (a policy file). */
  readonly seccomp: ResolvedSeccomp['mode'];
  readonly cgroup: string | null;
  /** Host pid of bubblewrap's pid-namespace init, while running. */
  readonly initPid: number | null;
  readonly dir: string;
  /** Null when the container is not traced (create --trace turns it on). */
  readonly trace: ContainerTraceInfo | null;
  readonly spec: ResolvedSpec;
}

/** What `inspect` says of a traced container's trace. */
export interface ContainerTraceInfo {
  /** The JSONL file every start appends to (`corral trace NAME` reads it). */
  readonly file: string;
  /** Backend forced at create, or of the last run's recorder; null before the first start. */
  readonly backend: string | null;
  /** Host pid of the last run's recorder while it lives (it ends just after the container), else null. */
  readonly recorderPid: number | null;
}

/** Resource use of a running container, read from its cgroup. */
export interface ContainerStats extends SandboxStats {
  readonly name: string;
  /** Cumulative CPU time, user + system, in ms. */
  readonly cpuMs: number | null;
  /** CPU use over the sampling interval, in percent of one CPU (200 = two CPUs busy). */
  readonly cpuPercent: number | null;
  readonly at: string;
}
