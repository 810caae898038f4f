import { existsSync } from 'node:fs';
import { StateError } from '../errors.js';
import { readTrace } from '../trace/jsonl-reader.js';
import type { TraceRecord } from '../trace/record.js';
import type { RuntimeContext } from './context.js';
import { deriveState } from './view.js';

export interface ContainerTraceOptions {
  /** Keep reading as the container runs, until it has ended and its recorder is done. Default false. */
  readonly follow?: boolean;
  /** Ends a follow early. */
  readonly signal?: AbortSignal;
  /** Following: how often to look for new records when no change notification came, ms. Default 250. */
  readonly pollMs?: number;
}

/** The error for a container created without --trace: it says how to get a trace. */
export function notTraced(name: string): StateError {
  return new StateError(
    `container ${name} is not traced: tracing is chosen when a container is created; create it with --trace (corral create --trace ... or corral run -d --trace ...)`,
    { name },
  );
}

/**
 * A traced container's trace.jsonl, record by record: one `start` … `end` section per start of
 * the container. With `follow`, records are read as its recorder writes them, until the
 * container is no longer running and its recorder has written its last line (or it was removed).
 */
export async function* readContainerTrace(
  ctx: RuntimeContext,
  name: string,
  options: ContainerTraceOptions = {},
): AsyncGenerator<TraceRecord> {
  const c = ctx.load(name);
  if (!c.config?.trace) throw notTraced(name);
  const follow = options.follow ?? false;
  const done = () => {
    try {
      const now = ctx.load(name);
      const status = deriveState(ctx, now).status;
      if (['starting', 'running', 'stopping'].includes(status)) return false;
      const recorder = now.state?.run?.trace?.recorder;
      return !recorder || !ctx.driver.alive(recorder);
    } catch {
      return true; // removed meanwhile: nobody will write to it again
    }
  };
  // Never started: nothing recorded yet, and without a follow nothing to wait for.
  if (!existsSync(c.paths.trace) && (!follow || done())) return;
  yield* readTrace(c.paths.trace, {
    follow,
    untilEnd: false,
    done,
    ...(options.signal && { signal: options.signal }),
    ...(options.pollMs !== undefined && { pollMs: options.pollMs }),
  });
}
