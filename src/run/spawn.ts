import { defaultBackend } from '../platform/index.js';
import { resolveSpec } from '../spec/resolve.js';
import type { SandboxSpec } from '../spec/schema.js';
import { SandboxProcess, type SpawnOptions } from './sandbox-process.js';

/**
 * Validates the spec and returns a process handle, not yet started: wire its streams, then
 * `await proc.start()` and `await proc.wait()`.
 */
export function spawn(spec: SandboxSpec, options: SpawnOptions & { cwd?: string } = {}): SandboxProcess {
  const resolved = resolveSpec(spec, options.cwd === undefined ? {} : { cwd: options.cwd });
  return new SandboxProcess(resolved, options.backend ?? defaultBackend(), options);
}
