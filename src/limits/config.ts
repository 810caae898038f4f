import { z } from 'zod';
import { ConfigError, UnsupportedError } from '../errors.js';
import type { ResourceConfig } from './types.js';

export const DEFAULT_INTERVAL_MS = 500;

const configSchema = z
  .object({
    memoryBytes: z
      .number({ message: 'memoryBytes: must be a number of bytes' })
      .int('memoryBytes: must be a whole number of bytes')
      .min(1 << 20, 'memoryBytes: must be at least 1Mi (1048576)')
      .max(Number.MAX_SAFE_INTEGER)
      .optional(),
    cpus: z
      .number({ message: 'cpus: must be a number of CPUs' })
      .min(0.01, 'cpus: must be at least 0.01')
      .max(4096, 'cpus: must be at most 4096')
      .optional(),
    pids: z.number().optional(),
    intervalMs: z
      .number({ message: 'intervalMs: must be a number of milliseconds' })
      // Below 10 ms the sampling itself becomes the load; above a minute nothing is limited.
      .min(10, 'intervalMs: must be at least 10')
      .max(60_000, 'intervalMs: must be at most 60000')
      .optional(),
  })
  .strict();

export type CheckedConfig = Readonly<ResourceConfig & { intervalMs: number }>;

/**
 * Validates a limiter config at the library edge. Limits no polling monitor can hold are
 * refused here rather than silently ignored.
 */
export function checkConfig(input: ResourceConfig): CheckedConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'config';
    const message =
      issue?.code === 'unrecognized_keys'
        ? `userspace limiter: unknown or unsupported limit(s): ${issue.keys.join(', ')}`
        : (issue?.message ?? 'invalid limiter config');
    throw new ConfigError(field, message, { value: input });
  }
  const c = parsed.data;
  if (c.pids !== undefined) {
    throw new UnsupportedError(
      `pids: a userspace limiter cannot cap the number of processes (asked for ${c.pids}): ` +
        'it sees a fork only after it happened, and a fork bomb outruns any polling',
      'use the cgroup pids controller (Linux as root, or a delegated cgroup v2 subtree)',
      { limit: 'pids' },
    );
  }
  return Object.freeze({
    ...(c.memoryBytes !== undefined && { memoryBytes: c.memoryBytes }),
    ...(c.cpus !== undefined && { cpus: c.cpus }),
    intervalMs: c.intervalMs ?? DEFAULT_INTERVAL_MS,
  });
}
