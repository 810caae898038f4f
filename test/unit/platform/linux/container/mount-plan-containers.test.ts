import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveSpec } from '../../../../../src/index.js';
import { buildBwrapArgs } from '../../../../../src/platform/linux/bwrap-args.js';
import { planMounts } from '../../../../../src/platform/linux/mount-plan.js';

function hasRun(hay: string[], ...needle: string[]): boolean {
  return hay.some((_, i) => needle.every((n, j) => hay[i + j] === n));
}

describe('bubblewrap argv for containers', () => {
  it('hides the data dir under an empty tmpfs, unless a hidden path already covers it', () => {
    const spec = resolveSpec({ command: ['true'] }, { hostEnv: {} });
    const ops = planMounts(spec, '/', ['/usr/share', '/tmp/corral-data']).ops;
    assert.ok(ops.some((o) => o.kind === 'tmpfs' && o.target === '/usr/share'));
    assert.ok(
      !ops.some((o) => o.kind === 'tmpfs' && o.target === '/tmp/corral-data'),
      '/tmp is private already',
    );
  });

  it('mounts an image container’s own root read-write, and only a rootfs, never the host root', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-rootfs-'));
    try {
      const onImage = resolveSpec({ command: ['/bin/true'], rootfs: dir }, { hostEnv: {} });
      const a = buildBwrapArgs(onImage, planMounts(onImage, '/', [], true).ops, {
        infoFd: 3,
        blockFd: 5,
        dieWithParent: false,
        statusFd: 6,
      });
      assert.ok(hasRun(a, '--bind', dir, '/'));
      assert.ok(hasRun(a, '--json-status-fd', '6'));
      assert.ok(hasRun(a, '--block-fd', '5'));
      assert.ok(!a.includes('--die-with-parent'), 'a container outlives corral');
      const host = resolveSpec({ command: ['true'] }, { hostEnv: {} });
      const h = buildBwrapArgs(host, planMounts(host, '/', [], true).ops, {
        infoFd: 3,
        blockFd: 4,
        dieWithParent: false,
      });
      assert.ok(hasRun(h, '--ro-bind', '/', '/'), 'the host root stays read-only');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
