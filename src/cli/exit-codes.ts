import { constants } from 'node:os';
import { CorralError } from '../errors.js';

/** Exit statuses, as docker and podman use them. */
export const EXIT = {
  /** corral itself failed, or the options were bad. */
  CORRAL: 125,
  /** The command exists but cannot be executed. */
  NOT_EXECUTABLE: 126,
  /** The command was not found. */
  NOT_FOUND: 127,
} as const;

/** The exit status for an error thrown before or instead of running the command. */
export function exitCodeForError(err: unknown): number {
  if (err instanceof CorralError) {
    if (err.code === 'E_NOT_FOUND') return EXIT.NOT_FOUND;
    if (err.code === 'E_NOT_EXECUTABLE') return EXIT.NOT_EXECUTABLE;
  }
  return EXIT.CORRAL;
}

/** 128+N for a death by signal N, the shell convention. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}
