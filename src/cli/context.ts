import type { SandboxBackend } from '../run/backend.js';
import type { CliIO } from './output.js';

/** What every command gets: its streams, the backend (lazily made), and where to put its status. */
export interface CliContext {
  readonly io: CliIO;
  backend(): SandboxBackend;
  exitCode: number;
}
