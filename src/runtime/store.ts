import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { CorralError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { DEFAULT_SECCOMP } from '../spec/seccomp.js';
import type { ContainerPaths } from './paths.js';
import type { ContainerConfig, StateFile } from './types.js';

export function readConfig(
  paths: ContainerPaths,
  name: string,
  dataDir: string,
): ContainerConfig | undefined {
  const c = readJson<ContainerConfig>(paths.config, name, dataDir);
  // Created before specs had a filter: such a container gets the default one, as new ones do.
  if (c && c.spec.seccomp === undefined) return { ...c, spec: { ...c.spec, seccomp: DEFAULT_SECCOMP } };
  return c;
}

export function readState(paths: ContainerPaths, name: string, dataDir: string): StateFile | undefined {
  return readJson<StateFile>(paths.state, name, dataDir);
}

/**
 * Records a state. Steady states (created, running, exited) are fsynced; the transient ones
 * (creating, starting, removing) are not: they describe processes and mounts that a power loss
 * ends anyway, and they cost a millisecond each on the path from create to first output.
 */
export function writeState(
  paths: ContainerPaths,
  state: StateFile,
  durable = state.status === 'created' || state.status === 'running' || state.status === 'exited',
): void {
  writeFileAtomic(paths.state, `${JSON.stringify(state, null, 2)}\n`, 0o600, durable);
}

export function writeConfig(paths: ContainerPaths, config: ContainerConfig): void {
  writeFileAtomic(paths.config, `${JSON.stringify(config, null, 2)}\n`, 0o600);
}

/** Names of the containers in the data dir (directories under containers/, dot-dirs excluded). */
export function listNames(dataDir: string): string[] {
  try {
    return readdirSync(path.join(dataDir, 'containers'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

function readJson<T>(file: string, name: string, dataDir: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // Writes are atomic, so this is damage from outside corral (a full disk before we fsynced, an edit).
    throw new CorralError(
      'E_STATE',
      `container ${name}: ${path.basename(file)} is corrupt; remove the container with: corral rm -f ${name}`,
      { file, dataDir },
    );
  }
}
