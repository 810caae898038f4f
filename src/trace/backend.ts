import type { CapabilityStatus } from '../capabilities/types.js';
import type { Tracer } from './types.js';

/** Options any backend may use; each ignores what does not concern it. */
export interface TracerOptions {
  /** Polling backends: how often to look, in ms. Default: 100. */
  readonly intervalMs?: number;
  /** Proc connector: read argv from a capture at real-time priority. Default: true. */
  readonly realtime?: boolean;
}

export type ProbeResult =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly fix: string };

/** One way of tracing on this OS, as the factory sees it. */
export interface TracerBackend {
  /** e.g. `proc-connector`. */
  readonly name: string;
  /** What it uses, for the capability report. */
  readonly mechanism: string;
  /** `kernel` when the kernel reports each event; `userspace` when corral polls. */
  readonly kind: Exclude<CapabilityStatus, 'unavailable'>;
  /** What it cannot see, said plainly (e.g. processes shorter than the interval). */
  readonly limitation?: string;
  /** Tries the mechanism for real. */
  probe(): Promise<ProbeResult>;
  create(options: TracerOptions): Tracer;
}
