import { UnsupportedError } from '../errors.js';
import type { TracerOptions } from '../trace/backend.js';
import { selectTracer } from '../trace/factory.js';
import { TraceRecorder } from '../trace/recorder.js';
import { StubTracer } from '../trace/stub-tracer.js';
import type { TraceSummary } from '../trace/summary.js';
import type { TraceEvent, Tracer } from '../trace/types.js';
import type { ReadySandbox } from './backend.js';

/** `run(spec, { trace })`: what to do with the exec trace of the run. */
export interface RunTraceOptions extends TracerOptions {
  /** Write every event as JSONL to this file (replaced if it exists). Default: no file. */
  readonly file?: string;
  /** Called for every event while the run goes on. */
  readonly onEvent?: (event: TraceEvent) => void;
  /** Force a backend (`proc-connector`, `proc-poll`, ...). Default: the best available here. */
  readonly backend?: string;
  /** The `sandbox` field of the events. Default: the sandbox's cgroup name. */
  readonly label?: string;
  /** Use this tracer (not started) instead of choosing one. */
  readonly tracer?: Tracer;
}

/** A trace bound to one run: `onReady` goes to the backend, `finish` after the run. */
export interface RunTrace {
  readonly backend: string;
  /** Starts tracing once the sandbox exists and before its command's first instruction. */
  readonly onReady: (sandbox: ReadySandbox) => Promise<void>;
  /** Stops tracing, closes the file; the summary (null if the sandbox never became ready). */
  finish(): Promise<TraceSummary | null>;
}

/**
 * Chooses the tracer before the sandbox is started, so a host that cannot trace fails the run
 * at once, with the reason, instead of running it untraced.
 */
export async function prepareRunTrace(options: RunTraceOptions): Promise<RunTrace> {
  const tracer =
    options.tracer ??
    (
      await selectTracer({
        ...(options.backend !== undefined && { backend: options.backend }),
        ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
        ...(options.realtime !== undefined && { realtime: options.realtime }),
      })
    ).tracer;
  if (tracer instanceof StubTracer)
    throw new UnsupportedError(`cannot trace this run: ${tracer.reason}`, tracer.fix);
  const recorder = new TraceRecorder({
    tracer,
    ...(options.file !== undefined && { file: options.file }),
    ...(options.onEvent && { onEvent: options.onEvent }),
  });
  let started = false;
  return {
    backend: tracer.backend,
    onReady: async (s) => {
      started = true;
      await recorder.start({ ...s, ...(options.label !== undefined && { sandbox: options.label }) });
    },
    finish: async () => {
      const summary = await recorder.stop();
      return started ? summary : null;
    },
  };
}
