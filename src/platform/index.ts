import { UnsupportedError } from '../errors.js';
import type { SandboxBackend } from '../run/backend.js';
import { DarwinBackend } from './darwin/darwin-backend.js';
import { LinuxBackend } from './linux/linux-backend.js';

let shared: SandboxBackend | undefined;

/** The backend for the OS corral runs on, created once per process (its probes are cached). */
export function defaultBackend(): SandboxBackend {
  shared ??= createBackend();
  return shared;
}

function createBackend(): SandboxBackend {
  switch (process.platform) {
    case 'linux':
      return new LinuxBackend();
    case 'darwin':
      return new DarwinBackend();
    default:
      throw new UnsupportedError(
        `corral has no sandbox backend for ${process.platform}`,
        'run corral on Linux or macOS',
      );
  }
}
