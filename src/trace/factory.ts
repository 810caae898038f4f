import type { Capability } from '../capabilities/types.js';
import { ConfigError } from '../errors.js';
import { tracerBackends } from '../platform/trace-backends.js';
import type { TracerBackend, TracerOptions } from './backend.js';
import { StubTracer } from './stub-tracer.js';
import type { Tracer } from './types.js';

export interface SelectTracerOptions extends TracerOptions {
  /** Use this backend (e.g. `proc-poll`) instead of the best available one. */
  readonly backend?: string;
  /** The candidates, best first. Default: this OS's backends. */
  readonly backends?: readonly TracerBackend[];
}

export interface TracerChoice {
  /** The chosen tracer, not yet started; a StubTracer when nothing works here. */
  readonly tracer: Tracer;
  /** Backends not chosen because they do not work here, and why. */
  readonly unavailable: readonly { name: string; reason: string; fix: string }[];
}

/** Probes the backends in order of preference and returns the first that works. */
export async function selectTracer(options: SelectTracerOptions = {}): Promise<TracerChoice> {
  const all = options.backends ?? tracerBackends();
  let candidates = all;
  if (options.backend !== undefined) {
    candidates = all.filter((b) => b.name === options.backend);
    if (candidates.length === 0)
      throw new ConfigError(
        'trace.backend',
        `unknown tracer backend ${JSON.stringify(options.backend)}; available here: ${all.map((b) => b.name).join(', ') || 'none'}`,
      );
  }
  const unavailable: { name: string; reason: string; fix: string }[] = [];
  for (const b of candidates) {
    const p = await b.probe();
    if (p.ok) return { tracer: b.create(options), unavailable };
    unavailable.push({ name: b.name, reason: p.reason, fix: p.fix });
  }
  const reason =
    unavailable.map((u) => `${u.name}: ${u.reason}`).join('; ') || 'corral has no exec tracer for this OS';
  const fix = unavailable[0]?.fix ?? 'run corral on Linux or macOS';
  return { tracer: new StubTracer(reason, fix), unavailable };
}

/** The best tracer available here (a StubTracer, whose start() explains, when there is none). */
export async function createTracer(options: SelectTracerOptions = {}): Promise<Tracer> {
  return (await selectTracer(options)).tracer;
}

/**
 * For `corral capabilities`: `trace` is the tracer corral would use, then one entry per backend
 * saying whether it works here and, if not, why and how to get it.
 */
export async function tracerCapabilities(
  backends: readonly TracerBackend[] = tracerBackends(),
): Promise<Record<string, Capability>> {
  const out: Record<string, Capability> = {};
  let chosen: Capability | undefined;
  for (const b of backends) {
    const p = await b.probe();
    const entry: Capability = p.ok
      ? { status: b.kind, mechanism: b.mechanism, ...(b.limitation && { reason: b.limitation }) }
      : { status: 'unavailable', mechanism: b.mechanism, reason: p.reason, fix: p.fix };
    out[`trace.${b.name}`] =
      chosen && p.ok
        ? { ...entry, reason: `works, but ${chosen.mechanism.split(':')[0]} is preferred` }
        : entry;
    if (p.ok && !chosen) chosen = { ...entry, mechanism: `${b.name}: ${b.mechanism}` };
  }
  return {
    trace: chosen ?? {
      status: 'unavailable',
      mechanism: 'exec tracing',
      reason:
        backends.length === 0 ? 'corral has no exec tracer for this OS' : 'no tracer backend works here',
      fix: backends.length === 0 ? 'run corral on Linux or macOS' : 'see the trace.* entries',
    },
    ...out,
  };
}
