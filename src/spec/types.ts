import type { ResolvedSeccomp } from './seccomp.js';

/** Network modes a sandbox can have. `none`: only a private loopback. `host`: the host's network. */
export type NetworkMode = 'none' | 'host';

/** A host path made visible inside the sandbox. */
export interface Bind {
  /** Absolute host path. */
  readonly source: string;
  /** Absolute path inside the sandbox. */
  readonly target: string;
  readonly mode: 'rw' | 'ro';
}

/** Limits after parsing: plain numbers in bytes, milliseconds and CPUs. Absent means unlimited. */
export interface ResolvedLimits {
  readonly memoryBytes?: number;
  readonly cpus?: number;
  readonly cpuTimeMs?: number;
  readonly pids?: number;
  readonly nofile?: number;
  readonly fsizeBytes?: number;
  readonly timeoutMs?: number;
  /** Cap on captured stdout and on captured stderr, each. Only applies when output is captured. */
  readonly outputBytes: number;
}

/** macOS-only settings after validation (see `macos` in the spec schema). */
export interface MacosOptions {
  readonly localhost: { readonly bind: readonly number[]; readonly connect: readonly number[] };
  readonly gpu: 'none' | 'metal' | 'mps';
  readonly addressSpaceBytes: number | undefined;
}

/**
 * A validated, frozen spec. Everything inside corral works from this; nothing re-validates.
 */
export interface ResolvedSpec {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workdir: string;
  readonly network: NetworkMode;
  readonly hostname: string;
  readonly rootfs: string | undefined;
  readonly binds: readonly Bind[];
  readonly tmpfs: readonly string[];
  readonly limits: ResolvedLimits;
  readonly bestEffort: boolean;
  /** Set only when the spec had `macos` settings; only the macOS backend reads them. */
  readonly macos?: MacosOptions;
  /** Host uid/gid to run as when corral is root; undefined picks the default sandbox user. */
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  /** The system call filter to install (compiled by the platform backend). */
  readonly seccomp: ResolvedSeccomp;
}

/** Limit names, as they appear in results, capability reports and CLI messages. */
export const LIMIT_NAMES = [
  'memory',
  'cpus',
  'cpuTime',
  'pids',
  'nofile',
  'fsize',
  'timeout',
  'output',
  // macOS only (spec.macos.addressSpace): RLIMIT_AS, best-effort.
  'addressSpace',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
