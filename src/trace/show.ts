import { formatRecord } from './format.js';
import { readTrace } from './jsonl-reader.js';
import type { TraceRecord } from './record.js';
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

/** Prints a trace file and returns the summary of what was printed. */
export function showTrace(
  file: string,
  out: NodeJS.WritableStream,
  options: ShowTraceOptions = {},
): Promise<TraceSummary> {
  const read = readTrace(file, {
    follow: options.follow ?? false,
    ...(options.signal && { signal: options.signal }),
  });
  return printTrace(read, out, options);
}

/**
 * Prints trace records as they come, one line each: for people, or as JSONL with `json` (what
 * `corral trace NAME [-f] [--json]` does with a container's records). Returns the summary.
 */
export async function printTrace(
  records: AsyncIterable<TraceRecord>,
  out: NodeJS.WritableStream,
  options: Pick<ShowTraceOptions, 'json' | 'utc'> = {},
): Promise<TraceSummary> {
  const summary = new TraceSummarizer();
  for await (const record of records) {
    summary.add(record);
    out.write(
      `${options.json ? JSON.stringify(record) : formatRecord(record, { utc: options.utc ?? false })}\n`,
    );
  }
  return summary.result();
}
