import type { TracerBackend } from '../trace/backend.js';
import { darwinTracerBackends } from './darwin/trace/backends.js';
import { linuxTracerBackends } from './linux/trace/backends.js';

/** The exec tracers this OS could offer, best first (empty where corral has none). */
export function tracerBackends(): TracerBackend[] {
  switch (process.platform) {
    case 'linux':
      return linuxTracerBackends();
    case 'darwin':
      return darwinTracerBackends();
    default:
      return [];
  }
}
