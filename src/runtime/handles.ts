import { CorralError } from '../errors.js';
import type { LogLine, LogsOptions } from './logs.js';
import type { ExecOptions, ExecResult } from './ops/exec.js';
import type { RemoveOptions } from './ops/remove.js';
import type { StopOptions } from './ops/stop.js';
import type { Runtime } from './runtime.js';
import type { ContainerInfo, ContainerOutcome, ContainerStats } from './types.js';
import type { StatsOptions } from './stats.js';
import type { ContainerTraceOptions } from './trace.js';
import type { TraceRecord } from '../trace/record.js';

/**
 * A container seen through one of its lifecycle states: each type offers what makes sense in
 * that state (testcontainers style). Handles hold only the name; the data dir is the truth, so
 * a handle stays valid when another corral process acts on the container.
 */
abstract class BaseContainer implements AsyncDisposable {
  private removed = false;

  constructor(
    protected readonly runtime: Runtime,
    readonly name: string,
  ) {}

  inspect(): ContainerInfo {
    return this.runtime.inspect(this.name);
  }

  logs(options: LogsOptions = {}): AsyncGenerator<LogLine> {
    return this.runtime.logs(this.name, options);
  }

  /** Its exec trace (containers created with `trace`). */
  trace(options: ContainerTraceOptions = {}): AsyncGenerator<TraceRecord> {
    return this.runtime.trace(this.name, options);
  }

  /** The reserved TCP port (PORT and CORRAL_PORT inside). */
  get port(): number | null {
    return this.runtime.port(this.name);
  }

  /** Removes the container; a second call does nothing. */
  async remove(options: RemoveOptions = {}): Promise<void> {
    if (this.removed) return;
    try {
      await this.runtime.remove(this.name, options);
    } catch (err) {
      // Removed by someone else meanwhile: the goal is reached.
      if (!(err instanceof CorralError && err.code === 'E_NO_SUCH_CONTAINER')) throw err;
    }
    this.removed = true;
  }

  /** `await using c = await rt.create(...)`: the container is removed (killed first) at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove({ force: true });
  }
}

export class CreatedContainer extends BaseContainer {
  readonly status = 'created' as const;

  start(): Promise<RunningContainer> {
    return this.runtime.start(this.name);
  }
}

export class RunningContainer extends BaseContainer {
  readonly status = 'running' as const;

  /** Host pid of the main command (undefined once it has ended). */
  get pid(): number | undefined {
    return this.runtime.pid(this.name);
  }

  /** SIGTERM, then SIGKILL after the grace period; safe to call twice. */
  async stop(options: StopOptions = {}): Promise<ExitedContainer> {
    await this.runtime.stop(this.name, options);
    return new ExitedContainer(this.runtime, this.name);
  }

  kill(signal: string | number = 'SIGKILL'): Promise<void> {
    return this.runtime.kill(this.name, signal);
  }

  async wait(options: { signal?: AbortSignal } = {}): Promise<ExitedContainer> {
    await this.runtime.wait(this.name, options);
    return new ExitedContainer(this.runtime, this.name);
  }

  exec(command: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.runtime.exec(this.name, command, options);
  }

  stats(options: StatsOptions = {}): Promise<ContainerStats> {
    return this.runtime.stats(this.name, options);
  }

  statsStream(options: StatsOptions = {}): AsyncGenerator<ContainerStats> {
    return this.runtime.statsStream(this.name, options);
  }
}

export class ExitedContainer extends BaseContainer {
  readonly status = 'exited' as const;

  /** How the last run ended. */
  get outcome(): ContainerOutcome | undefined {
    return this.runtime.state(this.name).outcome;
  }

  /** Starts it again (logs are kept and appended to). */
  start(): Promise<RunningContainer> {
    return this.runtime.start(this.name);
  }
}

export type ContainerHandle = CreatedContainer | RunningContainer | ExitedContainer;
