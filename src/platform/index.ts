import { UnsupportedError } from '../errors.js';
import type { SandboxBackend } from '../run/backend.js';
import type { ContainerDriver } from '../runtime/driver.js';
import { DarwinBackend } from './darwin/darwin-backend.js';
import { LinuxContainerDriver } from './linux/container/linux-driver.js';
import { LinuxBackend } from './linux/linux-backend.js';

let shared: SandboxBackend | undefined;

/** The backend for the OS corral runs on, created once per process (its probes are cached). */
export function defaultBackend(): SandboxBackend {
  shared ??= createBackend();
  return shared;
}

export interface BackendOptions {
  /** Linux: keep a parked spare for the next run (see LinuxBackendOptions.warmStarts). */
  readonly warmStarts?: boolean;
}

/** A new backend for this OS (the CLI makes its own: one run per process needs no spares). */
export function createBackend(options: BackendOptions = {}): SandboxBackend {
  switch (process.platform) {
    case 'linux':
      return new LinuxBackend(options.warmStarts === undefined ? {} : { warmStarts: options.warmStarts });
    case 'darwin':
      return new DarwinBackend();
    default:
      throw new UnsupportedError(
        `corral has no sandbox backend for ${process.platform}`,
        'run corral on Linux or macOS',
      );
  }
}

/** The lifecycle runtime's driver for this OS. */
export function defaultContainerDriver(): ContainerDriver {
  switch (process.platform) {
    case 'linux':
      return new LinuxContainerDriver();
    default:
      throw new UnsupportedError(
        `corral has no container runtime for ${process.platform} yet`,
        'run containers on Linux; one-shot runs (corral run) may still work here',
      );
  }
}
