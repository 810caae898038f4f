import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeLauncher, type FakeBehaviour, type LaunchRequest } from '../../../../src/index.js';
import { probeDarwin } from '../../../../src/platform/darwin/capabilities.js';

interface Host {
  sandboxExec?: 'works' | 'missing' | 'does-not-deny';
  ps?: boolean;
  ulimitV?: boolean;
}

/** A fake macOS: each probe program answers as the described host would. */
function macHost(host: Host = {}): FakeLauncher {
  const exit =
    (code: number, out = '', err = ''): FakeBehaviour =>
    (c) => {
      if (out) c.writeStdout(out);
      if (err) c.writeStderr(err);
      c.exit(code);
    };
  return new FakeLauncher((req: LaunchRequest) => {
    const args = req.args.join(' ');
    if (req.file === '/usr/bin/sandbox-exec') {
      const mode = host.sandboxExec ?? 'works';
      if (mode === 'missing') return exit(127, '', 'spawn /usr/bin/sandbox-exec ENOENT\n');
      const denying = /\(deny /.test(args);
      if (denying && mode === 'works') return exit(1, '', 'Operation not permitted\n');
      return exit(0);
    }
    if (req.file === '/bin/ps')
      return host.ps === false ? exit(1, '', 'ps: not permitted\n') : exit(0, '  45120   0:00.41\n');
    if (req.file === '/bin/sh')
      return /-v/.test(args) && host.ulimitV === false ? exit(2, '', 'ulimit: bad\n') : exit(0);
    return exit(1, '', `unexpected ${req.file}\n`);
  });
}

const probe = (launcher: FakeLauncher, uid = 501) =>
  probeDarwin({ launcher, sandboxExecPath: '/usr/bin/sandbox-exec', uid, release: '24.1.0' });

describe('probeDarwin: an honest capability report', () => {
  it('reports Seatbelt isolation as kernel only after a deny rule was seen to deny', async () => {
    const r = await probe(macHost());
    assert.equal(r.platform, 'darwin');
    assert.equal(r.backend, 'darwin-seatbelt');
    assert.equal(r.isolation.filesystem?.status, 'kernel');
    assert.equal(r.isolation.network?.status, 'kernel');
    assert.deepEqual(r.cgroup, { version: null, base: null });
  });

  it('says there are no namespaces, cgroups or seccomp', async () => {
    const r = await probe(macHost());
    for (const ns of ['user', 'pid', 'network', 'mount'])
      assert.equal(r.isolation[`${ns}-namespace`]?.status, 'unavailable', ns);
    assert.equal(r.features.cgroups?.status, 'unavailable');
    assert.equal(r.features.seccomp?.status, 'unavailable');
    assert.equal(r.features['die-with-parent']?.status, 'unavailable');
  });

  it('reports memory and cpus as userspace, pids as unavailable, rlimits as kernel, AS as best-effort', async () => {
    const r = await probe(macHost());
    assert.equal(r.limits.memory?.status, 'userspace');
    assert.match(r.limits.memory?.mechanism ?? '', /ps every 500 ms/);
    assert.equal(r.limits.cpus?.status, 'userspace');
    assert.equal(r.limits.pids?.status, 'unavailable');
    assert.match(r.limits.pids?.reason ?? '', /RLIMIT_NPROC counts every process of the user/);
    for (const k of ['cpuTime', 'nofile', 'fsize']) assert.equal(r.limits[k]?.status, 'kernel', k);
    assert.equal(r.limits.addressSpace?.status, 'kernel');
    assert.match(r.limits.addressSpace?.reason ?? '', /best-effort/);
    assert.equal(r.limits.timeout?.status, 'userspace');
  });

  it('reports isolation unavailable, with the fix, when sandbox-exec is missing', async () => {
    const r = await probe(macHost({ sandboxExec: 'missing' }));
    assert.equal(r.isolation.filesystem?.status, 'unavailable');
    assert.match(r.isolation.filesystem?.fix ?? '', /sandbox-exec/);
    assert.equal(r.isolation.network?.status, 'unavailable');
  });

  it('does not claim isolation when profiles load but do not deny (e.g. inside another sandbox)', async () => {
    const r = await probe(macHost({ sandboxExec: 'does-not-deny' }));
    assert.equal(r.isolation.filesystem?.status, 'unavailable');
    assert.match(r.isolation.filesystem?.reason ?? '', /did not deny/);
  });

  it('does not claim the monitors when ps cannot be read, nor AS when ulimit -v fails', async () => {
    const r = await probe(macHost({ ps: false, ulimitV: false }));
    assert.equal(r.limits.memory?.status, 'unavailable');
    assert.equal(r.limits.cpus?.status, 'unavailable');
    assert.equal(r.limits.addressSpace?.status, 'unavailable');
  });

  it('as root, says the sandbox runs as an unprivileged uid', async () => {
    const r = await probe(macHost(), 0);
    assert.equal(r.user.root, true);
    assert.equal(r.user.sandboxUid, 2_000_000_000);
  });
});
