import { CorralError } from '../errors.js';

/** Where the CLI writes; tests pass buffers instead of the real process streams. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export function say(io: CliIO, line: string): void {
  io.stderr.write(`corral: ${line}\n`);
}

/** One clear line per error; a stack trace only when CORRAL_DEBUG is set. */
export function reportError(io: CliIO, err: unknown): void {
  if (err instanceof CorralError) {
    say(io, err.message);
  } else {
    say(io, `internal error: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (io.env.CORRAL_DEBUG && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
}
