import assert from 'node:assert/strict';
import { arch } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError } from '../../../src/errors.js';
import { cgroupsMissing, linuxSandboxMissing, marker } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import { hostRuntime } from '../../helpers/runtime-host.js';

/**
 * A hand-assembled x86_64 filter: mkdir and mkdirat fail with EPERM, everything else is allowed
 * (other architectures are let through, the test then skips). Stands in for the container's own
 * program until containers get seccomp from their spec.
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

// Loads denyMkdir on itself (PR_SET_SECCOMP, after no_new_privs), then sleeps: a container whose
// command runs under a filter, as every container will once seccomp is on by default.
const FILTERED = String.raw`
import ctypes, os, struct, sys
prog = bytes.fromhex(sys.argv[1])
buf = ctypes.create_string_buffer(prog, len(prog))
fprog = struct.pack('HxxxxxxQ', len(prog) // 8, ctypes.addressof(buf))
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.prctl(22, 2, ctypes.create_string_buffer(fprog, len(fprog)), 0, 0) == 0, ctypes.get_errno()
os.execvp('sleep', ['sleep', '600'])`;

describe('exec and seccomp (real kernel)', () => {
  let env: ReturnType<typeof hostRuntime>;
  before(() => {
    env = hostRuntime();
  });
  after(() => env.cleanup());
  const missing = () =>
    linuxSandboxMissing() ??
    cgroupsMissing() ??
    (arch() === 'x64' ? undefined : 'the test filter is x86_64 code');

  it('applies a seccomp program to the exec’d command, in the container’s own files and processes', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await rt.create('sx', { command: ['sh', '-c', `echo mine > /tmp/f; exec sleep 600 # ${marker()}`] });
    await rt.start('sx');
    await sleep(100);
    const plain = await rt.exec('sx', ['sh', '-c', 'mkdir /tmp/ok && echo made']);
    assert.equal(plain.stdout, 'made\n');
    const r = await rt.exec(
      'sx',
      [
        'sh',
        '-c',
        'cat /tmp/f; ps -e -o comm= | grep -c sleep; mkdir /tmp/no; echo "mkdir=$?"; grep -E "^(Seccomp|CapBnd):" /proc/self/status',
      ],
      {
        seccomp: denyMkdir(),
      },
    );
    assert.match(r.stdout, /^mine\n1\n/, `same files and processes: ${r.stdout} ${r.stderr}`);
    assert.match(r.stdout, /mkdir=1/);
    assert.match(r.stderr, /Operation not permitted/);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stdout, /CapBnd:\s+0+\n/);
    await rt.remove('sx', { force: true });
  });

  it('refuses exec into a container that runs under a filter when it cannot apply one', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await rt.create('fx', { command: ['python3', '-c', FILTERED, Buffer.from(denyMkdir()).toString('hex')] });
    await rt.start('fx');
    for (let i = 0; i < 50 && !(await isSleeping(rt.pid('fx'))); i++) await sleep(20);
    await assert.rejects(
      rt.exec('fx', ['true']),
      (e) => e instanceof CorralError && e.code === 'E_UNSUPPORTED' && /seccomp filter/.test(e.message),
    );
    const ok = await rt.exec('fx', ['sh', '-c', 'mkdir /tmp/x'], { seccomp: denyMkdir() });
    assert.equal(ok.exitCode, 1, 'with the program given, exec runs under it');
    await rt.remove('fx', { force: true });
  });
});

async function isSleeping(pid: number | undefined): Promise<boolean> {
  if (pid === undefined) return false;
  const { readFileSync } = await import('node:fs');
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep';
  } catch {
    return false;
  }
}
