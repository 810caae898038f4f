import { defaultBackend } from '../platform/index.js';
import type { SandboxBackend } from '../run/backend.js';
import type { CapabilityReport } from './types.js';

/** Probes this host for every isolation mechanism and limit, for real. */
export function capabilities(backend: SandboxBackend = defaultBackend()): Promise<CapabilityReport> {
  return backend.capabilities();
}
