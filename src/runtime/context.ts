import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { NoSuchContainerError } from '../errors.js';
import type { ContainerDriver } from './driver.js';
import { ContainerLock } from './lock.js';
import { validateName } from './names.js';
import { containerPaths, lockDir, type ContainerPaths } from './paths.js';
import { readConfig, readState } from './store.js';
import type { ContainerConfig, StateFile } from './types.js';

/** One container as read from disk. `config` is missing only while (or if) create was cut short. */
export interface Loaded {
  readonly name: string;
  readonly paths: ContainerPaths;
  readonly config: ContainerConfig | undefined;
  readonly state: StateFile | undefined;
}

/** What every lifecycle operation works with. */
export class RuntimeContext {
  constructor(
    readonly dataDir: string,
    readonly driver: ContainerDriver,
    readonly lockTimeoutMs: number,
  ) {}

  paths(name: string): ContainerPaths {
    return containerPaths(this.dataDir, name);
  }

  /** Creates the data dir layout; containers/ must be traversable by the sandbox uid (rootfs). */
  ensureLayout(): void {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o711 });
    mkdirSync(path.join(this.dataDir, 'containers'), { recursive: true, mode: 0o711 });
    mkdirSync(path.join(this.dataDir, 'images'), { recursive: true, mode: 0o711 });
    mkdirSync(path.join(this.dataDir, 'locks'), { recursive: true, mode: 0o700 });
  }

  lock(name: string, op: string, timeoutMs = this.lockTimeoutMs): Promise<ContainerLock> {
    return ContainerLock.acquire(lockDir(this.dataDir, name), op, {
      self: this.driver.self(),
      alive: (r) => this.driver.alive(r),
      timeoutMs,
    });
  }

  holders(name: string) {
    return ContainerLock.holders(lockDir(this.dataDir, name), (r) => this.driver.alive(r));
  }

  /** Reads a container; throws E_NO_SUCH_CONTAINER when there is none by that name. */
  load(name: string): Loaded {
    validateName('container', name);
    const paths = this.paths(name);
    const config = readConfig(paths, name, this.dataDir);
    const state = readState(paths, name, this.dataDir);
    if (!config && !state && !existsSync(paths.dir))
      throw new NoSuchContainerError(name, { dataDir: this.dataDir });
    return { name, paths, config, state };
  }
}
