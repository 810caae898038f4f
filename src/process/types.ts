import type { Duplex, Readable, Writable } from 'node:stream';

export type StdioMode = 'pipe' | 'inherit' | 'ignore';

/**
 * A stdio slot: a mode, or an open host file descriptor the child gets a duplicate of (a log
 * file, say), so the child can outlive the launcher without anything copying its output.
 */
export type StdioTarget = StdioMode | number;

/** One program to start on the host: the lowest level corral works at. */
export interface LaunchRequest {
  /** Host program (absolute path, or a name looked up on the host PATH). */
  readonly file: string;
  readonly args: readonly string[];
  /** The complete environment of the new process (nothing is inherited implicitly). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Host uid/gid to switch to before exec (only possible as root). */
  readonly uid?: number;
  readonly gid?: number;
  readonly stdin: StdioTarget;
  readonly stdout: StdioTarget;
  readonly stderr: StdioTarget;
  /** Number of extra pipes to create, passed to the child as fds 3, 4, ... */
  readonly extraPipes?: number;
  /** Open host fds passed on after the extra pipes: child fd 3 + extraPipes, and so on. */
  readonly extraFds?: readonly number[];
  /** Start in a new session so the child outlives the launcher's process group. */
  readonly detached?: boolean;
  /**
   * Child fd numbers (above the extra pipes and fds) that get /dev/null instead of whatever this process
   * has open there without close-on-exec, so nothing inherited reaches the child by accident.
   */
  readonly nullFds?: readonly number[];
}

export interface LaunchExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started program, as the launcher sees it. */
export interface LaunchedProcess {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Parent ends of the extra pipes: `extra[0]` is the child's fd 3. */
  readonly extra: readonly Duplex[];
  /** Resolves once the process has exited and its stdio is closed. */
  readonly exit: Promise<LaunchExit>;
  kill(signal: NodeJS.Signals): boolean;
  /** Lets the launcher's event loop exit while this process runs (detached children). */
  unref(): void;
  /** Undoes unref(): the event loop waits for this process again. */
  ref?(): void;
}

/**
 * Starts host processes and signals them. The OS implementation uses child_process; the
 * in-memory fake lets unit tests drive every code path without starting anything.
 */
export interface ProcessLauncher {
  launch(request: LaunchRequest): LaunchedProcess;
  /** Sends a signal to any host pid; false if the process does not exist. */
  signal(pid: number, signal: NodeJS.Signals | 0): boolean;
}
