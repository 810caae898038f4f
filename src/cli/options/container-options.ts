import type { CreateOptions } from '../../runtime/ops/create.js';
import type { SandboxSpec } from '../../spec/schema.js';
import type { CliIO } from '../output.js';
import { specFromOptions } from './sandbox-options.js';

/** What `create` and `run -d` turn their flags into. */
export function resolveCreate(
  command: string[],
  opts: Record<string, unknown>,
  io: CliIO,
): { name: string | undefined; spec: SandboxSpec; options: CreateOptions } {
  const spec = specFromOptions(opts, command, io);
  return {
    name: typeof opts.name === 'string' ? opts.name : undefined,
    spec,
    options: {
      cwd: io.cwd,
      hostEnv: io.env,
      ...(typeof opts.image === 'string' && { image: opts.image }),
      ...(opts.logTimestamps === true && { logTimestamps: true }),
      // create --trace is a flag; run -d --trace arrives as run's `--trace=` (no file).
      ...((opts.trace === true || opts.trace === '') && { trace: true }),
    },
  };
}
