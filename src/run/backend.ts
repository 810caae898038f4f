import type { Readable, Writable } from 'node:stream';
import type { CapabilityReport } from '../capabilities/types.js';
import type { StdioMode } from '../process/types.js';
import type { LimitName, ResolvedSpec } from '../spec/types.js';

/** How a limit was (or was not) enforced for one run. */
export interface LimitReport {
  /** The limit as a person would write it, e.g. `256Mi`, `0.5`, `10s`. */
  readonly value: string;
  /** `kernel`: the kernel enforces it. `userspace`: corral watches and signals. `none`: not enforced. */
  readonly enforcement: 'kernel' | 'userspace' | 'none';
  /** e.g. `cgroup-v1 memory.limit_in_bytes`, `rlimit RLIMIT_CPU`. */
  readonly mechanism: string;
  readonly note?: string;
}

export interface NotEnforced {
  readonly limit: LimitName;
  readonly reason: string;
  readonly fix: string;
}

export interface SandboxStats {
  readonly cpuUserMs: number | null;
  readonly cpuSystemMs: number | null;
  readonly memoryBytes: number | null;
  readonly peakMemoryBytes: number | null;
  readonly memoryLimitBytes: number | null;
  readonly pids: number | null;
}

export interface SandboxExit {
  /** The command's exit status (128+N when it died of signal N). Null if corral could not tell. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SandboxUsage {
  readonly cpuUserMs: number | null;
  readonly cpuSystemMs: number | null;
  readonly peakMemoryBytes: number | null;
  /** The kernel's OOM killer acted in this sandbox (so the run was ended for memory). */
  readonly oomKilled: boolean;
}

export interface BackendStartOptions {
  readonly stdin: StdioMode;
  readonly stdout: StdioMode;
  readonly stderr: StdioMode;
  /** Kill the sandbox if corral exits. Default: true. Lifecycle containers turn it off. */
  readonly dieWithParent?: boolean;
  /**
   * Called once the sandbox's init exists, is inside its cgroup and has its rlimits, but before
   * the command is allowed to exec: the place to attach anything that must see the first
   * instruction (a tracer). If it throws, the sandbox is torn down and start() rejects.
   */
  readonly onReady?: (sandbox: ReadySandbox) => void | Promise<void>;
}

/** What is known about a sandbox at the moment it is ready to exec its command. */
export interface ReadySandbox {
  /** Host pid of the sandbox's top process; every process of the sandbox descends from it. */
  readonly initPid: number;
  /** Name of the sandbox's cgroup (its last path component), if it has one. */
  readonly cgroupName: string | undefined;
  /** Pids currently in the sandbox's cgroup (empty when it has none). */
  readonly cgroupProcs: () => number[];
}

/** A sandbox that has been started: the platform-neutral view the run layer works with. */
export interface RunningSandbox {
  /** Host pid of the sandbox's top process. */
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly limits: Readonly<Partial<Record<LimitName, LimitReport>>>;
  readonly notEnforced: readonly NotEnforced[];
  /** Resolves when the sandbox's command has ended and its output is drained. */
  readonly exited: Promise<SandboxExit>;
  /** Sends a signal to every process of the sandbox (SIGKILL ends the whole tree at once). */
  signal(signal: NodeJS.Signals): void;
  stats(): SandboxStats;
  /** After exit: final accounting, then every process, cgroup and file is released. Idempotent. */
  finish(): Promise<SandboxUsage>;
}

/** One OS's way of running a sandbox. Only `platform/*` implements this. */
export interface SandboxBackend {
  readonly name: string;
  start(spec: ResolvedSpec, options: BackendStartOptions): Promise<RunningSandbox>;
  capabilities(): Promise<CapabilityReport>;
}
