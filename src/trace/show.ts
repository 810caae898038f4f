import { formatRecord } from './format.js';
import { readTrace } from './jsonl-reader.js';
import { TraceSummarizer, type TraceSummary } from './summary.js';

export interface ShowTraceOptions {
  /** Keep printing as the file grows, until the trace ends or the signal aborts. Default: false. */
  readonly follow?: boolean;
  /** Print the JSONL records as they are instead of lines for people. Default: false. */
  readonly json?: boolean;
  /** Times in UTC instead of local time. Default: false. */
  readonly utc?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Prints a trace file (what `corral trace NAME [-f] [--json]` does with a container's
 * `trace.jsonl`) and returns the summary of what was printed.
 */
export async function showTrace(
  file: string,
  out: NodeJS.WritableStream,
  options: ShowTraceOptions = {},
): Promise<TraceSummary> {
  const summary = new TraceSummarizer();
  const read = readTrace(file, {
    follow: options.follow ?? false,
    ...(options.signal && { signal: options.signal }),
  });
  for await (const record of read) {
    summary.add(record);
    out.write(
      `${options.json ? JSON.stringify(record) : formatRecord(record, { utc: options.utc ?? false })}\n`,
    );
  }
  return summary.result();
}
