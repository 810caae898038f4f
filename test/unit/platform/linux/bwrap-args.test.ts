import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSpec } from '../../../../src/index.js';
import { buildBwrapArgs } from '../../../../src/platform/linux/bwrap-args.js';
import { planMounts } from '../../../../src/platform/linux/mount-plan.js';

function argsFor(spec: Parameters<typeof resolveSpec>[0], dieWithParent = true): string[] {
  const resolved = resolveSpec(spec, { hostEnv: {} });
  return buildBwrapArgs(resolved, planMounts(resolved).ops, { infoFd: 3, blockFd: 4, dieWithParent });
}

/** True if `needle` appears in `hay` as consecutive elements. */
function hasRun(hay: string[], ...needle: string[]): boolean {
  return hay.some((_, i) => needle.every((n, j) => hay[i + j] === n));
}

describe('bubblewrap argv', () => {
  it('unshares every namespace, drops all capabilities and starts a new session', () => {
    const a = argsFor({ command: ['true'] });
    for (const f of [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-net',
      '--unshare-cgroup-try',
      '--new-session',
      '--die-with-parent',
    ]) {
      assert.ok(a.includes(f), f);
    }
    assert.ok(hasRun(a, '--cap-drop', 'ALL'));
    assert.ok(hasRun(a, '--hostname', 'corral'));
  });

  it('keeps the host network only when asked', () => {
    assert.ok(!argsFor({ command: ['true'], network: 'host' }).includes('--unshare-net'));
  });

  it('mounts the host root read-only, then /dev, /proc, a private /tmp and hides home directories', () => {
    const a = argsFor({ command: ['true'] });
    assert.ok(hasRun(a, '--ro-bind', '/', '/'));
    assert.ok(hasRun(a, '--dev', '/dev'));
    assert.ok(hasRun(a, '--proc', '/proc'));
    assert.ok(hasRun(a, '--tmpfs', '/tmp'));
    assert.ok(hasRun(a, '--tmpfs', '/root'));
    assert.ok(a.indexOf('--ro-bind') < a.indexOf('--tmpfs'), 'root first, so later mounts land on it');
  });

  it('mounts user binds after the hidden directories, parents before children', () => {
    const a = argsFor({
      command: ['true'],
      // Targets inside a bind must exist in its source (/etc/ssl, /etc/default).
      rw: ['/etc:/tmp/work'],
      ro: ['/usr:/tmp/work/ssl'],
      tmpfs: ['/tmp/work/default'],
    });
    const rw = a.findIndex((x, i) => x === '--bind' && a[i + 2] === '/tmp/work');
    const ro = a.findIndex((x, i) => x === '--ro-bind' && a[i + 2] === '/tmp/work/ssl');
    const tmp = a.findIndex((x, i) => x === '--tmpfs' && a[i + 1] === '/tmp/work/default');
    assert.ok(rw > a.lastIndexOf('/root') && rw < ro && rw < tmp, a.join(' '));
  });

  it('ends options with -- so a command starting with a dash is not read as an option', () => {
    const a = argsFor({ command: ['--version', 'x'] });
    assert.deepEqual(a.slice(-3), ['--', '--version', 'x']);
    assert.ok(hasRun(a, '--info-fd', '3', '--block-fd', '4'));
  });

  it('leaves out --die-with-parent for sandboxes that must outlive corral', () => {
    assert.ok(!argsFor({ command: ['true'] }, false).includes('--die-with-parent'));
  });
});
