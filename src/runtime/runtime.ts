import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { defaultContainerDriver } from '../platform/index.js';
import { OsLauncher } from '../process/os-launcher.js';
import type { SandboxSpec } from '../spec/schema.js';
import { RuntimeContext } from './context.js';
import { defaultDataDir } from './data-dir.js';
import type { ContainerDriver } from './driver.js';
import { CreatedContainer, ExitedContainer, RunningContainer, type ContainerHandle } from './handles.js';
import { importImage, listImages, loadImage, removeImage, type ImageInfo } from './images.js';
import { readLogs, type LogLine, type LogsOptions } from './logs.js';
import { generateName, validateName } from './names.js';
import { createContainer, type CreateOptions } from './ops/create.js';
import { execInContainer, type ExecOptions, type ExecResult } from './ops/exec.js';
import { removeContainer, type RemoveOptions } from './ops/remove.js';
import { startContainer } from './ops/start.js';
import { killContainer, stopContainer, type StopOptions } from './ops/stop.js';
import { readStats, streamStats, type StatsOptions } from './stats.js';
import { listNames } from './store.js';
import { readContainerTrace, type ContainerTraceOptions } from './trace.js';
import type { TraceRecord } from '../trace/record.js';
import type { ContainerInfo, ContainerOutcome, ContainerState, ContainerStats } from './types.js';
import { containerInfo, deriveState } from './view.js';
import { waitFor } from './wait.js';

export interface RuntimeOptions {
  /** Where containers and images live. Default: `$CORRAL_DATA_DIR`, `/var/lib/corral` (root), `$XDG_DATA_HOME/corral`. */
  readonly dataDir?: string;
  /** How long an operation waits for another corral process busy with the same container. Default 30 s. */
  readonly lockTimeoutMs?: number;
  /** The OS driver. Default: this host's (bubblewrap on Linux); tests pass a fake. */
  readonly driver?: ContainerDriver;
}

/**
 * Opens the container runtime over a data dir. There is no daemon: every method reads and
 * writes the data dir, and any number of corral processes may use it at once.
 */
export function openRuntime(options: RuntimeOptions = {}): Runtime {
  return new Runtime(
    new RuntimeContext(
      path.resolve(options.dataDir ?? defaultDataDir()),
      options.driver ?? defaultContainerDriver(),
      options.lockTimeoutMs ?? 30_000,
    ),
  );
}

export class Runtime {
  /** @internal */
  constructor(private readonly ctx: RuntimeContext) {}

  get dataDir(): string {
    return this.ctx.dataDir;
  }

  /** Creates a container (nothing runs yet). `name` undefined picks one. */
  async create(
    name: string | undefined,
    spec: SandboxSpec,
    options: CreateOptions = {},
  ): Promise<CreatedContainer> {
    const n = name ?? generateName();
    await createContainer(this.ctx, n, spec, options);
    return new CreatedContainer(this, n);
  }

  /** Starts a created or exited container, detached from this process. */
  async start(name: string): Promise<RunningContainer> {
    await startContainer(this.ctx, name);
    return new RunningContainer(this, name);
  }

  /** SIGTERM to the whole tree, SIGKILL after `grace` (default 10s). No effect unless running. */
  async stop(name: string, options: StopOptions = {}): Promise<void> {
    await stopContainer(this.ctx, name, options);
  }

  /** Sends a signal (default SIGKILL) to every process of a running container. */
  async kill(name: string, signal: string | number = 'SIGKILL'): Promise<void> {
    killContainer(this.ctx, name, signal);
  }

  /** Removes a container and all it holds; a running one only with `force`. */
  async remove(name: string, options: RemoveOptions = {}): Promise<void> {
    await removeContainer(this.ctx, name, options);
  }

  state(name: string): ContainerState {
    return deriveState(this.ctx, this.ctx.load(name));
  }

  inspect(name: string): ContainerInfo {
    return containerInfo(this.ctx, this.ctx.load(name));
  }

  /** Every container in the data dir, by name. */
  list(): ContainerInfo[] {
    this.sweep();
    const out: ContainerInfo[] = [];
    for (const n of listNames(this.ctx.dataDir)) {
      try {
        out.push(this.inspect(n));
      } catch {
        // removed while we listed
      }
    }
    return out;
  }

  /** A handle for the container in its current state. */
  get(name: string): ContainerHandle {
    const s = this.state(name).status;
    if (s === 'running' || s === 'stopping') return new RunningContainer(this, name);
    if (s === 'exited') return new ExitedContainer(this, name);
    return new CreatedContainer(this, name);
  }

  /** Resolves with the outcome once the command has ended. */
  wait(name: string, options: { signal?: AbortSignal } = {}): Promise<ContainerOutcome> {
    return waitFor(this.ctx, name, options.signal);
  }

  /** The container's output as lines; `follow` keeps reading until it stops. */
  logs(name: string, options: LogsOptions = {}): AsyncGenerator<LogLine> {
    return readLogs(this.ctx, name, options);
  }

  /**
   * The exec trace of a container created with `trace`: every process it (and exec) ran, as
   * trace records; `follow` keeps reading until it has ended. Refused for an untraced container.
   */
  trace(name: string, options: ContainerTraceOptions = {}): AsyncGenerator<TraceRecord> {
    return readContainerTrace(this.ctx, name, options);
  }

  exec(name: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return execInContainer(this.ctx, name, command, options);
  }

  stats(name: string, options: StatsOptions = {}): Promise<ContainerStats> {
    return readStats(this.ctx, name, options);
  }

  statsStream(name: string, options: StatsOptions = {}): AsyncGenerator<ContainerStats> {
    return streamStats(this.ctx, name, options);
  }

  /** Host pid of the container's main command, while it runs. */
  pid(name: string): number | undefined {
    const s = this.state(name);
    return s.pid;
  }

  /** Address of the container's service from the host: 127.0.0.1 with the host network, else null. */
  ip(name: string): string | null {
    return this.inspect(name).ip;
  }

  /** The TCP port reserved for the container (its PORT and CORRAL_PORT). */
  port(name: string): number | null {
    return this.inspect(name).port;
  }

  importImage(source: string, name: string): Promise<ImageInfo> {
    this.ctx.ensureLayout();
    // Copying files is host work, not sandbox work: always the real launcher.
    return importImage(new OsLauncher(), this.ctx.dataDir, source, name);
  }

  images(): ImageInfo[] {
    return listImages(this.ctx.dataDir);
  }

  image(name: string): ImageInfo {
    return loadImage(this.ctx.dataDir, name);
  }

  removeImage(name: string): void {
    validateName('image', name);
    const users = this.list()
      .filter((c) => c.rootfs.image === name)
      .map((c) => c.name);
    removeImage(this.ctx.dataDir, name, users);
  }

  /** Deletes what a removal killed mid-delete left (it was renamed out of the way first). */
  private sweep(): void {
    const dir = path.join(this.ctx.dataDir, 'containers');
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.startsWith('.trash-'));
    } catch {
      return;
    }
    for (const n of names) {
      const m = /^\.trash-.+-(\d+)-\d+$/.exec(n);
      // Its remover may still be deleting it: leave it to that process while it lives.
      const owner = m ? this.ctx.driver.identify(Number(m[1])) : undefined;
      if (owner && Number(m?.[1]) !== process.pid) continue;
      if (this.ctx.driver.mountsUnder(path.join(dir, n)).length === 0)
        rmSync(path.join(dir, n), { recursive: true, force: true });
    }
  }
}
