import { OsLauncher } from '../process/os-launcher.js';
import { systemClock } from './clock.js';
import { checkConfig } from './config.js';
import type { Clock, LimitKind, ResourceConfig, ResourceLimiter, Signaller, TreeSampler } from './types.js';
import { UserspaceHandle } from './userspace-handle.js';

export interface UserspaceLimiterOptions {
  /** Reads the tree: `/proc` on Linux, `ps` on macOS (see `src/platform/<os>/`). */
  readonly sampler: TreeSampler;
  /** Default: `process.kill`. */
  readonly signal?: Signaller;
  /** Default: the system clock. Tests pass a fake one. */
  readonly clock?: Clock;
}

const launcher = new OsLauncher();
const defaultSignal: Signaller = (pid, signal) => launcher.signal(pid, signal);

/**
 * Memory and CPU limits held by a monitor instead of the kernel: an RSS watchdog that kills
 * the tree and a CPU throttle that stops and resumes it. For hosts without cgroups (macOS, or
 * Linux without a delegated cgroup). Refuses what no monitor can enforce (pids).
 */
export class UserspaceLimiter implements ResourceLimiter {
  readonly name: string;
  readonly supported: readonly LimitKind[] = ['memory', 'cpus'];

  constructor(private readonly options: UserspaceLimiterOptions) {
    this.name = `userspace (${options.sampler.source})`;
  }

  apply(config: ResourceConfig): UserspaceHandle {
    return new UserspaceHandle(checkConfig(config), {
      sampler: this.options.sampler,
      signal: this.options.signal ?? defaultSignal,
      clock: this.options.clock ?? systemClock,
    });
  }
}
