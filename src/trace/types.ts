/**
 * Trace events are plain JSON-serialisable objects, so a JSONL trace file holds exactly what the
 * library hands out. Pids are host pids.
 */

/**
 * How the arguments of an exec were obtained.
 * - `full`: argv read exactly from the kernel (`/proc/PID/cmdline`, or the same bytes copied by
 *   the eBPF tracer at the exec).
 * - `split`: rebuilt by splitting a joined command line on spaces (macOS `ps`): an argument that
 *   itself held spaces cannot be told apart.
 * - `truncated`: the start of argv, read exactly from the kernel, but the whole was longer than
 *   the tracer copies at exec (eBPF: 32 KiB) and the process had moved on before the rest could
 *   be read: `args` ends early, its last element possibly cut.
 * - `none`: the process was gone before its argv could be read; `args` is null.
 */
export type ArgvCapture = 'full' | 'split' | 'truncated' | 'none';

interface EventBase {
  /** ISO 8601 time of the event (from the kernel's clock where the backend has one). */
  readonly timestamp: string;
  readonly pid: number;
  /** The process that created this one (at fork time); null when the backend could not tell. */
  readonly ppid: number | null;
  /** Which sandbox: the caller's label, else the sandbox's cgroup name, else `pid-<initPid>`. */
  readonly sandbox: string;
}

/** A process replaced its program (execve). */
export interface ExecEvent extends EventBase {
  readonly type: 'exec';
  /**
   * argv[0] as the program was invoked (e.g. `git`, `/bin/sh`). When argv was lost, the kernel's
   * 15-character process name if it was still readable, else null.
   */
  readonly command: string | null;
  /** argv[1..]; null when it could not be captured (see `argv`). */
  readonly args: readonly string[] | null;
  /** Working directory at exec, as the host sees it; null if unreadable. */
  readonly cwd: string | null;
  /** The executable file that was run (resolves symlinks); null if unreadable. */
  readonly exe: string | null;
  readonly argv: ArgvCapture;
  /** Set when the process already existed when tracing began (seen by a scan, not at its exec). */
  readonly attached?: true;
}

/** A process created another one (threads are not reported). */
export interface ForkEvent extends EventBase {
  readonly type: 'fork';
}

/** A process ended. */
export interface ExitEvent extends EventBase {
  readonly type: 'exit';
  /** The raw wait status (`code << 8 | signal`); null when the backend cannot see it (polling). */
  readonly status: number | null;
  /** Exit code when it exited normally, else null. */
  readonly exitCode: number | null;
  /** Signal name when a signal killed it, else null. */
  readonly signal: string | null;
  readonly coreDumped: boolean;
  /** argv[0] of its last exec, when the tracer saw it. */
  readonly command: string | null;
}

/** The tracer knows it missed events (kernel buffer overflow, ...): the record is incomplete. */
export interface LostEvent {
  readonly type: 'lost';
  readonly timestamp: string;
  readonly sandbox: string;
  readonly reason: string;
}

export type TraceEvent = ExecEvent | ForkEvent | ExitEvent | LostEvent;

/** What to trace: a sandbox, identified the way `BackendStartOptions.onReady` describes it. */
export interface TraceTarget {
  /** Host pid of the sandbox's top process; everything it forks is traced. */
  readonly initPid: number;
  /** The sandbox's cgroup name (last path component), used to confirm membership. */
  readonly cgroupName?: string | undefined;
  /** Pids in the sandbox's cgroup right now (polling uses it to find processes). */
  readonly cgroupProcs?: (() => number[]) | undefined;
  /** Label for `event.sandbox`. Default: the cgroup name, else `pid-<initPid>`. */
  readonly sandbox?: string | undefined;
  /**
   * Also trace processes that join the sandbox's cgroup from outside its process tree later
   * (`corral exec` into a container): each is adopted at its first exec inside the cgroup. Needs
   * `cgroupName`; with the proc connector it costs a read of /proc/PID/cgroup per exec elsewhere
   * on the host while the trace runs, with eBPF a few lookups in the kernel. Polling finds them
   * through `cgroupProcs`. Default: false.
   */
  readonly joiners?: boolean | undefined;
}

/** Counters kept by every tracer; the basis of the capture rate that is reported. */
export interface TraceCounts {
  readonly execs: number;
  /** Exec events whose whole argv was captured (`full` or `split`). */
  readonly execsWithArgv: number;
  readonly forks: number;
  readonly exits: number;
  /** Times the tracer knew it had missed events. */
  readonly lost: number;
}

export type TraceListener<E extends TraceEvent = TraceEvent> = (event: E) => void;

/** Watches one sandbox's processes. */
export interface Tracer extends AsyncDisposable {
  /** Which backend this is, e.g. `proc-connector`, `proc-poll`, `ps-poll`, `stub`. */
  readonly backend: string;
  /** Starts watching; resolves once every later exec of the target will be seen. */
  start(target: TraceTarget): Promise<void>;
  /** Stops (delivering events already seen) and releases every socket, timer and file. Idempotent. */
  stop(): Promise<TraceCounts>;
  /** Events from the moment of the call until stop(). Each call is an independent stream. */
  events(): AsyncIterable<TraceEvent>;
  /** Calls `listener` for every event; returns a function that unsubscribes. */
  onEvent(listener: TraceListener): () => void;
  /** Calls `listener` for every exec; returns a function that unsubscribes. */
  onExec(listener: TraceListener<ExecEvent>): () => void;
  counts(): TraceCounts;
}
