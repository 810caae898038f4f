import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeContainerDriver, type FakeDriverOptions } from '../../src/runtime/fake-driver.js';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.js';

/** A runtime over a fresh temporary data dir and the in-memory fake driver. */
export function fakeRuntime(options: FakeDriverOptions = {}): {
  rt: Runtime;
  driver: FakeContainerDriver;
  dataDir: string;
  /** What a real host would still hold: fake processes, cgroups, mounts, container dirs. */
  leftovers(): string[];
  cleanup(): void;
} {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'corral-rt-'));
  const driver = new FakeContainerDriver(options);
  const rt = openRuntime({ dataDir, driver, lockTimeoutMs: 2000 });
  return {
    rt,
    driver,
    dataDir,
    leftovers: () => {
      const dir = path.join(dataDir, 'containers');
      return [
        ...driver.liveProcesses().map((p) => `process ${p}`),
        ...[...driver.cgroups].map((c) => `cgroup ${c}`),
        ...[...driver.mounts].map((m) => `mount ${m}`),
        ...(existsSync(dir) ? readdirSync(dir).map((d) => `dir ${d}`) : []),
      ];
    },
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
