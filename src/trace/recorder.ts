import { TraceWriter } from './jsonl-writer.js';
import { TraceSummarizer, type TraceSummary } from './summary.js';
import { sandboxLabel } from './tracer-core.js';
import type { TraceEvent, TraceTarget, Tracer } from './types.js';

export interface TraceRecorderOptions {
  /** A tracer that is not started yet (see createTracer). */
  readonly tracer: Tracer;
  /** Write every record to this JSONL file. */
  readonly file?: string;
  /** Add to the file instead of replacing it (a container restarted). Default: false. */
  readonly append?: boolean;
  /** Called for every event, after it is written. */
  readonly onEvent?: (event: TraceEvent) => void;
}

/**
 * Traces one sandbox into a JSONL file (a `start` line, the events, an `end` line) and keeps a
 * running summary. What `run --trace` and lifecycle containers' `trace.jsonl` use.
 */
export class TraceRecorder implements AsyncDisposable {
  private writer: TraceWriter | undefined;
  private readonly summary = new TraceSummarizer();
  private label = '';
  private stopping: Promise<TraceSummary> | undefined;

  constructor(private readonly options: TraceRecorderOptions) {}

  get backend(): string {
    return this.options.tracer.backend;
  }

  /** Starts tracing; resolves once the tracer will see the target's next exec. */
  async start(target: TraceTarget): Promise<void> {
    const { file, append = false } = this.options;
    // The file is made only for a sandbox that exists: a run that failed to start leaves none.
    this.writer = file === undefined ? undefined : new TraceWriter(file, { append });
    await this.writer?.opened();
    this.label = sandboxLabel(target);
    const start = {
      type: 'start' as const,
      timestamp: new Date().toISOString(),
      sandbox: this.label,
      backend: this.backend,
      initPid: target.initPid,
    };
    this.summary.add(start);
    this.writer?.write(start);
    this.options.tracer.onEvent((e) => {
      this.summary.add(e);
      this.writer?.write(e);
      this.options.onEvent?.(e);
    });
    await this.options.tracer.start(target);
  }

  /** Stops the tracer, writes the `end` line, closes the file and returns the summary. Idempotent. */
  stop(): Promise<TraceSummary> {
    this.stopping ??= (async () => {
      try {
        await this.options.tracer.stop();
      } finally {
        if (this.writer) {
          const c = this.options.tracer.counts();
          this.writer.write({
            type: 'end',
            timestamp: new Date().toISOString(),
            sandbox: this.label,
            counts: c,
          });
          await this.writer.close();
        }
      }
      return this.summary.result();
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
