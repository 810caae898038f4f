import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CommandNotFoundError,
  LaunchError,
  SandboxProcess,
  UnsupportedError,
  resolveSpec,
  type SandboxSpec,
} from '../../../../src/index.js';
import type { FakeLauncher } from '../../../../src/process/fake-launcher.js';
import { DarwinBackend } from '../../../../src/platform/darwin/darwin-backend.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { fakeDarwinLauncher, fixedSampler, type FakeWrapperOptions } from '../../../helpers/fake-darwin.js';

const MiB = 2 ** 20;
const tmpRoot = mkdtempSync(path.join(tmpdir(), 'corral-darwin-unit-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

function setup(wrapper: FakeWrapperOptions = {}, extra: { rssBytes?: number; clock?: FakeClock } = {}) {
  const launcher = fakeDarwinLauncher(wrapper);
  const tmpDir = mkdtempSync(path.join(tmpRoot, 'ws-'));
  // Like ps, it lists a process only while it exists (signal 0 asks the fake launcher).
  const sampler = fixedSampler({ rssBytes: extra.rssBytes ?? MiB }, (pid) => launcher.signal(pid, 0));
  const backend = new DarwinBackend({
    launcher,
    tmpDir,
    hostUid: 501,
    hostGid: 20,
    sampler: () => sampler,
    ...(extra.clock && { clock: extra.clock }),
  });
  return { launcher, backend, tmpDir, sampler };
}

async function start(backend: DarwinBackend, spec: SandboxSpec, onReady?: () => void) {
  const proc = new SandboxProcess(resolveSpec(spec), backend, {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'ignore',
    ...(onReady && { onReady }),
  });
  await proc.start();
  return proc;
}

const wrapperOf = (launcher: FakeLauncher) => launcher.launches.find((l) => l.file === '/bin/sh');

describe('DarwinBackend: the launch', () => {
  it('runs sh (rlimits) -> /usr/bin/sandbox-exec -p PROFILE -D ... -> the command by absolute path', async () => {
    const { launcher, backend } = setup();
    const proc = await start(backend, {
      command: ['echo', 'hi', '--x'],
      limits: { nofile: 64, cpuTime: '2s' },
    });
    await proc.wait();
    const req = wrapperOf(launcher);
    assert.ok(req);
    assert.equal(req.args[0], '-c');
    assert.match(req.args[1] as string, /ulimit -S -n 64 && ulimit -H -n 64/);
    assert.match(req.args[1] as string, /ulimit -S -t 2 && ulimit -H -t 3/);
    assert.equal(req.args[2], 'corral-rlimits');
    assert.equal(req.args[3], '/usr/bin/sandbox-exec');
    assert.equal(req.args[4], '-p');
    assert.match(req.args[5] as string, /^\(version 1\)\n\(deny default\)/);
    const dashD = req.args.slice(6).filter((_, i, a) => a[i - 1] === '-D');
    assert.ok(dashD.some((d) => d.startsWith('CORRAL_WORKSPACE_0=')));
    const tail = req.args.slice(-3);
    assert.ok(
      path.isAbsolute(tail[0] as string) && (tail[0] as string).endsWith('/echo'),
      `program ${tail[0]}`,
    );
    assert.deepEqual(tail.slice(1), ['hi', '--x']);
    assert.equal(req.detached, true, 'a new session, so the pid is the process group');
    assert.equal(req.extraPipes, 2);
  });

  it('gives the sandbox a private workspace as HOME and TMPDIR, and removes it at the end', async () => {
    const { launcher, backend, tmpDir } = setup();
    const proc = await start(backend, { command: ['true'] });
    const env = wrapperOf(launcher)?.env ?? {};
    const ws = env.HOME as string;
    assert.ok(ws.startsWith(tmpDir) && existsSync(ws));
    assert.equal(env.TMPDIR, `${ws}/`);
    assert.ok(env.PATH?.startsWith('/opt/homebrew/bin:'), `Homebrew on the default PATH: ${env.PATH}`);
    await proc.wait();
    assert.deepEqual(readdirSync(tmpDir), []);
  });

  it('reports a missing command before launching anything', async () => {
    const { launcher, backend } = setup();
    await assert.rejects(start(backend, { command: ['no-such-command-corral'] }), CommandNotFoundError);
    assert.equal(launcher.launches.length, 0);
  });

  it('calls onReady before it lets the command run', async () => {
    let went = false;
    let wentBeforeReady: boolean | undefined;
    const { backend } = setup({ onGo: () => (went = true) });
    const proc = await start(backend, { command: ['true'] }, () => {
      wentBeforeReady = went;
    });
    await proc.wait();
    assert.equal(wentBeforeReady, false);
    assert.equal(went, true);
  });
});

describe('DarwinBackend: limits', () => {
  it('reports cpu-time and nofile as kernel rlimits, memory and cpus as userspace', async () => {
    const { backend } = setup();
    const proc = await start(backend, {
      command: ['true'],
      limits: { memory: '256Mi', cpus: 0.5, nofile: 32, cpuTime: '1s' },
    });
    const r = await proc.wait();
    assert.equal(r.limits.nofile?.enforcement, 'kernel');
    assert.equal(r.limits.cpuTime?.enforcement, 'kernel');
    assert.equal(r.limits.memory?.enforcement, 'userspace');
    assert.match(r.limits.memory?.mechanism ?? '', /RSS watchdog: ps every 500 ms/);
    assert.equal(r.limits.cpus?.enforcement, 'userspace');
    assert.match(r.limits.cpus?.mechanism ?? '', /SIGSTOP\/SIGCONT of the process group and tree/);
  });

  it('refuses --pids: RLIMIT_NPROC counts every process of the user', async () => {
    const { launcher, backend, tmpDir } = setup();
    await assert.rejects(
      start(backend, { command: ['true'], limits: { pids: 32 } }),
      (err: unknown) => err instanceof UnsupportedError && /every process of the user/.test(err.message),
    );
    assert.equal(launcher.launches.length, 0);
    assert.deepEqual(readdirSync(tmpDir), []);
  });

  it('with bestEffort, runs and lists --pids as not enforced', async () => {
    const { backend } = setup();
    const proc = await start(backend, { command: ['true'], limits: { pids: 32 }, bestEffort: true });
    const r = await proc.wait();
    assert.deepEqual(
      r.notEnforced.map((n) => n.limit),
      ['pids'],
    );
    assert.equal(r.limits.pids?.enforcement, 'none');
  });

  it('reports RLIMIT_AS as best-effort when set, and as not enforced when the shell refused it', async () => {
    const spec = { command: ['true'], macos: { addressSpace: '8Gi' } };
    const set = await (await start(setup({ status: 'ok as=set' }).backend, spec)).wait();
    assert.equal(set.limits.addressSpace?.enforcement, 'kernel');
    assert.match(set.limits.addressSpace?.note ?? '', /best-effort/);
    const refused = await (await start(setup({ status: 'ok as=refused' }).backend, spec)).wait();
    assert.equal(refused.limits.addressSpace?.enforcement, 'none');
  });

  it('fails the start, naming the limit, when the wrapper cannot set it', async () => {
    const { backend, tmpDir } = setup({ status: 'fail RLIMIT_NOFILE' });
    await assert.rejects(
      start(backend, { command: ['true'], limits: { nofile: 999999 } }),
      (err: unknown) => err instanceof LaunchError && /RLIMIT_NOFILE/.test(err.message),
    );
    assert.deepEqual(readdirSync(tmpDir), []);
  });

  it('ends the run with reason memory when the RSS watchdog fires', async () => {
    const clock = new FakeClock();
    const { backend } = setup({ runMs: Infinity }, { rssBytes: 300 * MiB, clock });
    const proc = await start(backend, { command: ['true'], limits: { memory: '100Mi' } });
    await clock.advance(0);
    const r = await proc.wait();
    assert.equal(r.reason, 'memory');
    assert.equal(r.exitCode, 137);
    assert.equal(r.signal, 'SIGKILL');
    assert.match(r.message ?? '', /^memory limit 100Mi exceeded \(peak 300Mi\)/);
  });
});

describe('DarwinBackend: signals and mounts', () => {
  it('signals the whole process group on stop, not just the leader', async () => {
    const { launcher, backend } = setup({ runMs: Infinity });
    const proc = await start(backend, { command: ['true'] });
    proc.signal('SIGTERM');
    const r = await proc.wait();
    const leader = wrapperOf(launcher) && proc.pid;
    assert.ok(leader);
    assert.ok(
      launcher.signals.some((s) => s.pid === -leader && s.signal === 'SIGTERM'),
      'the group',
    );
    assert.equal(r.signal, 'SIGTERM');
    assert.equal(r.exitCode, 143);
    // The final sweep comes after the leader exited, when its pid may be reused: the group id
    // is not signalled then, only processes the sampler still finds.
    assert.ok(!launcher.signals.some((s) => s.pid === -leader && s.signal === 'SIGKILL'));
  });

  it('refuses tmpfs and binds to another path: macOS has no mount namespaces', async () => {
    const { backend } = setup();
    await assert.rejects(
      start(backend, { command: ['true'], tmpfs: ['/scratch'] }),
      (err: unknown) => err instanceof UnsupportedError && /no mount namespaces/.test(err.message),
    );
    await assert.rejects(
      start(backend, { command: ['true'], ro: [`${tmpRoot}:/data`] }),
      (err: unknown) => err instanceof UnsupportedError && /bind it at its own path/.test(err.message),
    );
  });

  it('opens only the requested localhost ports in the profile', async () => {
    const { launcher, backend } = setup();
    await (
      await start(backend, { command: ['true'], macos: { localhost: { bind: [8080], connect: [5432] } } })
    ).wait();
    const profile = wrapperOf(launcher)?.args[5] as string;
    assert.match(profile, /\(allow network-bind \(local ip "localhost:8080"\)\)/);
    assert.match(profile, /\(allow network-outbound \(remote ip "localhost:5432"\)\)/);
    assert.ok(!profile.includes('(allow network*)'));
  });
});
