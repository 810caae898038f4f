import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CgroupV2Driver } from '../../src/platform/linux/cgroup/v2.js';

const made = new Set<string>();
// Tests that do not clean up (a fake backend per test) still leave nothing in /tmp.
process.on('exit', () => {
  for (const root of made) rmSync(root, { recursive: true, force: true });
});

/** A directory shaped like a delegated cgroup v2 subtree, for testing the v2 driver off v2 hosts. */
export function fakeCgroupV2(controllers = 'cpu memory pids'): {
  root: string;
  driver: CgroupV2Driver;
  cleanup(): void;
} {
  const root = mkdtempSync(path.join(tmpdir(), 'corral-cgv2-'));
  made.add(root);
  writeFileSync(path.join(root, 'cgroup.controllers'), `${controllers}\n`);
  writeFileSync(path.join(root, 'cgroup.subtree_control'), '');
  const driver = new CgroupV2Driver({ delegated: root, signal: () => undefined });
  return {
    root,
    driver,
    cleanup: () => {
      rmSync(root, { recursive: true, force: true });
      made.delete(root);
    },
  };
}
