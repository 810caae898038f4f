/**
 * What this host can enforce, and how. Every entry was probed for real: a mechanism that was
 * not tried is never reported as available.
 */
export type CapabilityStatus = 'kernel' | 'userspace' | 'unavailable';

export interface Capability {
  readonly status: CapabilityStatus;
  /** e.g. `cgroup-v1 memory`, `rlimit RLIMIT_CPU`, `bubblewrap 0.8.0 --unshare-net`. */
  readonly mechanism: string;
  /** Why it is unavailable or weaker than kernel enforcement. */
  readonly reason?: string;
  /** What the user can do to get it. */
  readonly fix?: string;
}

export interface CapabilityReport {
  readonly platform: string;
  readonly backend: string;
  /** Kernel or OS release. */
  readonly release: string;
  readonly user: { readonly uid: number; readonly root: boolean; readonly sandboxUid: number | null };
  /** `v1`, `v2`, or null when corral cannot use cgroups here. */
  readonly cgroup: { readonly version: 'v1' | 'v2' | null; readonly base: string | null };
  readonly isolation: Readonly<Record<string, Capability>>;
  readonly limits: Readonly<Record<string, Capability>>;
  /** Anything else worth knowing (tracer, seccomp, ...), keyed by feature. */
  readonly features: Readonly<Record<string, Capability>>;
  /** Milliseconds the probes took. */
  readonly probeMs: number;
}
