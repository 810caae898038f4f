import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  LaunchError,
  SandboxProcess,
  StateError,
  UnsupportedError,
  resolveSpec,
  run,
} from '../../../../src/index.js';
import { fakeLinuxBackend } from '../../../helpers/fake-backend.js';
import { isBwrap } from '../../../helpers/fake-bwrap.js';

describe('Linux backend through the fake launcher', () => {
  it('runs bwrap as the unprivileged sandbox uid when corral is root', async () => {
    const { backend, launcher } = fakeLinuxBackend({ stdout: 'hi\n' });
    const r = await run({ command: ['sh', '-c', 'echo hi'] }, { backend });
    assert.equal(r.stdout, 'hi\n');
    const bwrap = launcher.launches.find(isBwrap);
    // bwrap is started through prlimit, so its rlimits (core 0 at least) are set before it runs.
    assert.equal(bwrap?.file, '/usr/bin/prlimit');
    assert.deepEqual(bwrap?.args.slice(0, 3), ['--core=0:0', '--', '/usr/bin/bwrap']);
    assert.equal(bwrap?.uid, 2_000_000_000);
    assert.equal(bwrap?.gid, 2_000_000_000);
    assert.equal(bwrap?.extraPipes, 3); // info, block, seccomp
    assert.deepEqual(
      Object.keys(bwrap?.env ?? {})
        .filter((k) => k !== 'TERM')
        .sort(),
      ['HOME', 'LANG', 'PATH'],
    );
  });

  it('runs as the caller when corral is not root, and refuses to pick a uid then', async () => {
    const { backend, launcher } = fakeLinuxBackend({}, { hostUid: 1000, hostGid: 1000 });
    await run({ command: ['true'] }, { backend });
    assert.equal(launcher.launches[0]?.uid, undefined);
    await assert.rejects(run({ command: ['true'], user: { uid: 5, gid: 5 } }, { backend }), /needs root/);
  });

  it('writes the limits into the cgroup and moves the held init into it before release', async () => {
    let seen: { procs: string; memory: string; cpu: string; pids: string } | undefined;
    const { backend, tree, launcher } = fakeLinuxBackend({
      onBlocked: () => {
        const dir = path.join(tree.root, 'corral', launcherCgroup(tree.root));
        seen = {
          procs: readFileSync(path.join(dir, 'cgroup.procs'), 'utf8'),
          memory: readFileSync(path.join(dir, 'memory.max'), 'utf8'),
          cpu: readFileSync(path.join(dir, 'cpu.max'), 'utf8'),
          pids: readFileSync(path.join(dir, 'pids.max'), 'utf8'),
        };
      },
    });
    const r = await run(
      { command: ['true'], limits: { memory: '64Mi', cpus: 0.5, pids: 32, nofile: 16, cpuTime: '1500ms' } },
      { backend },
    );
    assert.equal(seen?.memory, String(64 * 2 ** 20));
    assert.equal(seen?.cpu, '50000 100000');
    assert.equal(seen?.pids, '32');
    assert.match(seen?.procs ?? '', /^\d+$/);
    assert.equal(r.limits.memory?.mechanism, 'cgroup-v2 memory.max');
    assert.equal(r.limits.cpuTime?.note, 'rounded up to 2s: RLIMIT_CPU counts whole seconds');
    const wrapper = launcher.launches.find(isBwrap);
    assert.deepEqual(wrapper?.args.slice(0, 3), ['--core=0:0', '--cpu=2:3', '--']);
    // RLIMIT_NOFILE goes on the held init: bwrap itself needs descriptors to build the sandbox.
    const nofile = launcher.launches.find((l) => l.file === '/usr/bin/prlimit' && l.args[0] === '--pid');
    assert.deepEqual(nofile?.args, ['--pid', seen?.procs, '--nofile=16:16']);
    assert.equal(nofile?.uid, 2_000_000_000, 'prlimit runs as the sandbox uid, needing no CAP_SYS_RESOURCE');
    assert.equal(
      existsSync(path.join(tree.root, 'corral', launcherCgroup(tree.root) || 'x')),
      false,
      'cgroup removed',
    );
  });

  it('kills the whole sandbox through its init when the timeout fires', async () => {
    const { backend, launcher } = fakeLinuxBackend({ runMs: Infinity });
    const r = await run({ command: ['sleep', '100'], limits: { timeout: '50ms' } }, { backend });
    assert.equal(r.reason, 'timeout');
    assert.equal(r.exitCode, 137);
    assert.equal(r.limits.timeout?.enforcement, 'userspace');
    assert.ok(launcher.signals.some((s) => s.signal === 'SIGKILL' && s.pid >= 70_000_000));
  });

  it('reports memory when the cgroup saw an OOM kill', async () => {
    const { backend, tree } = fakeLinuxBackend({
      runMs: 0,
      exitCode: 137,
      onBlocked: () => {
        const dir = path.join(tree.root, 'corral', launcherCgroup(tree.root));
        writeFileSync(path.join(dir, 'memory.events'), 'oom 1\noom_kill 1\n');
        writeFileSync(path.join(dir, 'memory.peak'), String(64 * 2 ** 20));
      },
    });
    const r = await run({ command: ['true'], limits: { memory: '64Mi' } }, { backend });
    assert.equal(r.reason, 'memory');
    assert.equal(r.message, 'memory limit 64Mi exceeded (peak 64Mi)');
  });

  it('refuses a limit it cannot enforce, naming what is missing and the fix', async () => {
    const { backend, launcher } = fakeLinuxBackend({}, { driver: null });
    await assert.rejects(
      // pids: memory and cpus fall back to the userspace monitors; no monitor can hold pids.
      run({ command: ['true'], limits: { pids: 64 } }, { backend }),
      (err: unknown) => {
        assert.ok(err instanceof UnsupportedError);
        assert.match(
          err.message,
          /--pids cannot be enforced on this host: no cgroup filesystem is mounted; fix: mount cgroup2/,
        );
        return true;
      },
    );
    assert.equal(launcher.launches.length, 0, 'nothing was started');
  });

  it('runs anyway with bestEffort and lists what was not enforced', async () => {
    const { backend } = fakeLinuxBackend({}, { driver: null });
    const r = await run(
      { command: ['true'], limits: { pids: 64, nofile: 8 }, bestEffort: true },
      { backend },
    );
    assert.deepEqual(
      r.notEnforced.map((n) => n.limit),
      ['pids'],
    );
    assert.equal(r.limits.pids?.enforcement, 'none');
    assert.equal(r.limits.nofile?.enforcement, 'kernel');
    assert.equal(r.peakMemoryBytes, null, 'no accounting is invented without a cgroup');
  });

  it('says how to install bubblewrap when it is missing', async () => {
    const { backend } = fakeLinuxBackend({}, { bwrapPath: '' });
    await assert.rejects(
      run({ command: ['true'] }, { backend }),
      /bubblewrap \(bwrap\) is not installed.*apt-get install bubblewrap/,
    );
  });

  it('turns a bwrap setup failure into a launch error and leaves no cgroup', async () => {
    const { backend, tree } = fakeLinuxBackend({ failSetup: true });
    await assert.rejects(run({ command: ['true'] }, { backend }), LaunchError);
    assert.equal(launcherCgroup(tree.root), '');
  });

  it('refuses to start twice or to wait before starting', async () => {
    const { backend } = fakeLinuxBackend({ runMs: 10 });
    const proc = new SandboxProcess(resolveSpec({ command: ['true'] }), backend, {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
    });
    await assert.rejects(proc.wait(), StateError);
    await proc.start();
    await assert.rejects(proc.start(), StateError);
    const r = await proc.wait();
    assert.equal(r.exitCode, 0);
    assert.equal(proc.running, false);
  });
});

/** Name of the (single) cgroup the backend created under the fake tree, or ''. */
function launcherCgroup(root: string): string {
  const base = path.join(root, 'corral');
  if (!existsSync(base)) return '';
  return readdirSync(base).find((n) => n.startsWith('run-')) ?? '';
}
