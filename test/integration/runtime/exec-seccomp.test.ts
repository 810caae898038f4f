import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError } from '../../../src/errors.js';
import { findHostTool } from '../../../src/platform/linux/host-tools.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { cgroupsMissing, linuxSandboxMissing, marker, sandboxWritableDir } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import { hostRuntime, minimalRootfs, tempDir } from '../../helpers/runtime-host.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/seccomp-calls.c');
const EPERM = 1;

/**
 * A hand-assembled x86_64 filter: mkdir and mkdirat fail with EPERM, everything else is allowed
 * (other architectures are let through, the test then skips): a program a caller adds to exec.
 */
function denyMkdir(): Uint8Array {
  const ins: [number, number, number, number][] = [
    [0x20, 0, 0, 4], // ld arch
    [0x15, 0, 3, 0xc000003e], // x86_64? else allow
    [0x20, 0, 0, 0], // ld nr
    [0x15, 2, 0, 83], // mkdir → errno
    [0x15, 1, 0, 258], // mkdirat → errno
    [0x06, 0, 0, 0x7fff0000], // allow
    [0x06, 0, 0, 0x00050001], // errno EPERM
  ];
  const buf = Buffer.alloc(ins.length * 8);
  ins.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k, i * 8 + 4);
  });
  return buf;
}

/** Copies the host's bubblewrap and the libraries it needs into a root filesystem. */
function withBwrap(root: string): string {
  chmodSync(root, 0o755);
  const bwrap = findHostTool('bwrap') as string;
  mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  copyFileSync(bwrap, path.join(root, 'usr/bin/bwrap'));
  chmodSync(path.join(root, 'usr/bin/bwrap'), 0o755);
  for (const m of execFileSync('ldd', [bwrap], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[.\d]*)/g)) {
    const lib = m[1] as string;
    mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
    copyFileSync(lib, path.join(root, lib));
  }
  return root;
}

/** "name errno" lines of the calls fixture, as a map. */
function answers(stdout: string): Map<string, number> {
  return new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))] as const;
      }),
  );
}

describe('containers and their system call filter (real kernel)', () => {
  let env: ReturnType<typeof hostRuntime>;
  let dir = '';
  let calls = '';
  const tag = marker();
  const missing = () =>
    linuxSandboxMissing() ??
    cgroupsMissing() ??
    (findHostTool('gcc') ? undefined : 'gcc is not installed (it builds the system call fixture)') ??
    (arch() === 'x64' ? undefined : 'the added test filter is x86_64 code');
  before(() => {
    env = hostRuntime();
    if (missing()) return;
    dir = sandboxWritableDir('corral-ctr-seccomp-');
    chmodSync(dir, 0o755);
    calls = path.join(dir, 'calls');
    execFileSync('gcc', ['-O1', '-o', calls, FIXTURE]);
  });
  after(async () => {
    await env.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const sleeper = async (rt: Runtime, name: string, spec: object = {}) => {
    await rt.create(name, {
      command: ['sh', '-c', `echo mine > /tmp/f; exec sleep 600 # ${tag}`],
      ro: [dir],
      ...spec,
    });
    await rt.start(name);
    for (let i = 0; i < 100 && rt.pid(name) === undefined; i++) await sleep(10);
  };

  it('runs a container under the default filter unless told otherwise, and records it', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await rt.create('df', { command: [calls], ro: [dir] });
    await rt.start('df');
    assert.equal((await rt.wait('df')).exitCode, 0);
    let out = '';
    for await (const l of rt.logs('df', { stream: 'stdout' })) out += `${l.text}\n`;
    const got = answers(out);
    const denied = [...got].filter(([name]) => !name.startsWith('allowed:'));
    assert.ok(denied.length >= 55, `only ${denied.length} calls were tried`);
    for (const [name, errno] of denied) if (name !== 'clone3') assert.equal(errno, EPERM, name);
    assert.equal(got.get('allowed: getpid'), 0);
    assert.equal(rt.inspect('df').seccomp, 'default');
    const state = JSON.parse(readFileSync(path.join(rt.dataDir, 'containers/df/state.json'), 'utf8'));
    assert.equal(state.run.seccomp, 'default');
    await rt.remove('df');
  });

  it('applies the container’s own filter to exec’d commands without being asked', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await sleeper(rt, 'sx');
    const r = await rt.exec('sx', [
      'sh',
      '-c',
      `cat /tmp/f; ps -e -o comm= | grep -c sleep; grep -E "^(Seccomp|CapBnd|NoNewPrivs):" /proc/self/status; ${calls}`,
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^mine\n1\n/, `same files and processes: ${r.stdout} ${r.stderr}`);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stdout, /CapBnd:\s+0+\n/);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    const got = answers(r.stdout.split('\n').slice(5).join('\n'));
    for (const name of ['unshare', 'mount', 'ptrace', 'keyctl', 'ioctl(TIOCSTI)', 'setns'])
      assert.equal(got.get(name), EPERM, name);
    assert.equal(got.get('allowed: getpid'), 0);
    // Still the right exit codes for commands that cannot run.
    assert.equal((await rt.exec('sx', ['no-such-program'])).exitCode, 127);
    await rt.remove('sx', { force: true });
  });

  it('stacks a program the caller adds on top of the container’s own', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await sleeper(rt, 'st');
    const r = await rt.exec('st', ['sh', '-c', `mkdir /tmp/no; echo "mkdir=$?"; ${calls} | grep ^unshare`], {
      seccomp: denyMkdir(),
    });
    assert.match(r.stdout, /mkdir=1/);
    assert.match(r.stderr, /Operation not permitted/);
    assert.match(r.stdout, /^unshare 1$/m, 'the container’s own filter still applies');
    await rt.remove('st', { force: true });
  });

  it('with seccomp none, runs the container and its exec’d commands unfiltered', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await sleeper(rt, 'nf', { seccomp: 'none' });
    assert.equal(rt.inspect('nf').seccomp, 'none');
    const r = await rt.exec('nf', ['sh', '-c', `${calls} | grep -E "^(keyctl|ptrace) "`]);
    assert.doesNotMatch(r.stdout, / 1$/m, `nothing answered EPERM: ${r.stdout}`);
    await rt.remove('nf', { force: true });
  });

  it('takes a policy file at create and holds the container and exec to it', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    const policy = path.join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ deny: ['mkdir', 'mkdirat'] }));
    await sleeper(rt, 'pf', { seccomp: policy });
    assert.equal(rt.inspect('pf').seccomp, 'custom');
    const r = await rt.exec('pf', ['sh', '-c', `mkdir /tmp/no; echo "mkdir=$?"; ${calls} | grep ^unshare`]);
    assert.match(r.stdout, /mkdir=1/);
    assert.match(r.stdout, /^unshare 1$/m, 'the default list is extended, not replaced');
    await rt.remove('pf', { force: true });
  });

  it('refuses exec, saying why, on a root filesystem without bubblewrap; runs it with seccomp none', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    const root = minimalRootfs(tempDir('corral-ctr-root-'));
    chmodSync(root, 0o755);
    await rt.create('rf', { command: ['sleep', '600'], rootfs: root });
    await rt.start('rf');
    await assert.rejects(
      rt.exec('rf', ['true']),
      (e) =>
        e instanceof CorralError &&
        e.code === 'E_UNSUPPORTED' &&
        /system call filter/.test(e.message) &&
        /no bubblewrap/.test(e.message),
    );
    await rt.remove('rf', { force: true });
    await rt.create('rn', { command: ['sleep', '600'], rootfs: root, seccomp: 'none' });
    await rt.start('rn');
    const ok = await rt.exec('rn', ['cat', '/proc/self/status']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    await rt.remove('rn', { force: true });
  });

  it('loads the filter with the bubblewrap installed in a root filesystem of its own', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    const root = withBwrap(minimalRootfs(tempDir('corral-ctr-root-')));
    await rt.create('rb', { command: ['sleep', '600'], rootfs: root });
    await rt.start('rb');
    const r = await rt.exec('rb', ['cat', '/proc/self/status']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stdout, /CapBnd:\s+0+\n/);
    assert.equal((await rt.exec('rb', ['no-such-program'])).exitCode, 127);
    await rt.remove('rb', { force: true });
  });
});
