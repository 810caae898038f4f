import path from 'node:path';
import type { Command } from 'commander';
import type { CliIO } from '../output.js';

/** `--trace[=FILE]` on `run` (the file only with `=`: see attachOptionalValues). */
export function addTraceOption(cmd: Command): Command {
  return cmd.option(
    '--trace [file]',
    'trace every command the sandbox runs: --trace=FILE writes JSONL events to FILE; --trace alone prints a summary on stderr at the end',
  );
}

export interface TraceRequest {
  /** Absolute path of the JSONL file; undefined for the stderr summary. */
  readonly file: string | undefined;
}

/** What `--trace` asks for, or undefined when it was not given. */
export function traceFromOptions(value: unknown, io: CliIO): TraceRequest | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true || value === '') return { file: undefined };
  return { file: path.resolve(io.cwd, String(value)) };
}
