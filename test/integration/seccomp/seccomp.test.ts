import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { capabilities, run } from '../../../src/index.js';
import { findHostTool } from '../../../src/platform/linux/host-tools.js';
import { linuxSandboxMissing, sandboxWritableDir } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/seccomp-calls.c');
const EPERM = 1;
const ENOSYS = 38;

let dir = '';
let calls = '';
const missing = () => linuxSandboxMissing() ?? (findHostTool('gcc') ? undefined : 'gcc is not installed');

before(() => {
  if (missing()) return;
  dir = sandboxWritableDir('corral-seccomp-');
  chmodSync(dir, 0o755);
  calls = path.join(dir, 'calls');
  execFileSync('gcc', ['-O1', '-o', calls, FIXTURE]);
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

/** Runs the fixture in a sandbox and returns each call's errno (0: it worked). */
async function attempt(seccomp: 'default' | 'none'): Promise<Map<string, number>> {
  const r = await run({ command: [calls], seccomp, ro: [dir] });
  assert.equal(r.exitCode, 0, r.stderr);
  return new Map(
    (r.stdout ?? '')
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))] as const;
      }),
  );
}

describe('the default system call filter, in a real sandbox', () => {
  it('answers every denied call with EPERM (clone3 with ENOSYS) and lets the rest through', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const got = await attempt('default');
    const denied = [...got].filter(([name]) => !name.startsWith('allowed:'));
    assert.ok(denied.length >= 55, `only ${denied.length} calls were tried`);
    for (const [name, errno] of denied) assert.equal(errno, name === 'clone3' ? ENOSYS : EPERM, name);
    for (const name of ['allowed: getpid', 'allowed: personality(query)', 'allowed: clone(fork)'])
      assert.equal(got.get(name), 0, name);
  });

  it('is what refuses them: without it the same calls get other answers', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const got = await attempt('none');
    // Calls that need no privilege, or fail for another reason first, without the filter.
    const free = [
      ...['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'keyctl', 'add_key', 'unshare'],
      ...['clone(CLONE_NEWUSER)', 'personality(READ_IMPLIES_EXEC)', 'setns', 'pidfd_getfd', 'clone3'],
      ...['name_to_handle_at', 'ioctl(TIOCSTI)', 'ioctl(TIOCSTI|high bits)', 'ioctl(TIOCLINUX)'],
      ...(process.arch === 'x64' ? ['x32 getpid'] : []),
    ];
    for (const name of free)
      assert.notEqual(got.get(name), EPERM, `${name} was refused even without the filter`);
    assert.equal(got.get('x32 getpid') ?? ENOSYS, ENOSYS);
  });

  it('leaves ordinary programs working: sh, python3, node, git, and gcc building and running a program', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const script = [
      'set -e',
      'cd /tmp',
      'echo "$(echo sh works)"',
      `python3 -c 'import threading, subprocess; t = threading.Thread(target=print, args=("python threads",)); t.start(); t.join(); print(subprocess.run(["echo", "python subprocess"], capture_output=True, text=True).stdout.strip())'`,
      `node -e 'const { Worker } = require("node:worker_threads"); require("node:fs").writeFileSync("/tmp/n", "node fs"); console.log(require("node:child_process").execSync("cat /tmp/n").toString()); new Worker("require(\\"node:worker_threads\\").parentPort.postMessage(1)", { eval: true }).on("message", () => console.log("node worker"))'`,
      'git init -q repo && cd repo && echo hi > f && git add f',
      'git -c user.name=t -c user.email=t@t commit -q -m first && git log --format=%s',
      'cd /tmp && printf "#include <stdio.h>\\nint main(void){puts(\\"hello from gcc\\");return 0;}\\n" > h.c',
      'gcc -o h h.c && ./h',
    ].join('\n');
    const r = await run({ command: ['sh', '-c', script], limits: { timeout: '60s' } });
    assert.equal(r.exitCode, 0, r.stderr);
    for (const line of [
      'sh works',
      'python threads',
      'python subprocess',
      'node fs',
      'node worker',
      'first',
      'hello from gcc',
    ])
      assert.ok((r.stdout ?? '').includes(line), `missing "${line}" in:\n${r.stdout}\n${r.stderr}`);
  });

  it('reports the filter as enforced by the kernel, with what it filters', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const report = await capabilities();
    assert.equal(report.features.seccomp?.status, 'kernel', report.features.seccomp?.reason);
    assert.match(report.features.seccomp?.mechanism ?? '', /mount.*ptrace.*ioctl\(TIOCSTI\)/);
    assert.equal(
      report.features['nested-userns']?.status,
      'kernel',
      report.features['nested-userns']?.reason,
    );
  });
});

describe('seccomp policy files', () => {
  it('denies what a file adds to the default list, with EPERM', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const file = path.join(dir, 'deny-mkdir.json');
    writeFileSync(file, JSON.stringify({ deny: ['mkdir', 'mkdirat'] }));
    const r = await run({
      command: ['sh', '-c', 'mkdir /tmp/x; echo rc=$?; unshare -U true; echo userns=$?'],
      seccomp: file,
    });
    assert.match(r.stdout ?? '', /rc=1/);
    assert.match(r.stderr ?? '', /mkdir: cannot create directory .\/tmp\/x.: Operation not permitted/);
    assert.match(r.stderr ?? '', /unshare failed: Operation not permitted/, 'the default list still applies');
  });

  it('runs a program under an allow list and refuses what the list leaves out', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const base = [
      'execve',
      'brk',
      'arch_prctl',
      'mmap',
      'munmap',
      'mprotect',
      'openat',
      'open',
      'close',
      'read',
    ];
    const more = [
      'pread64',
      'newfstatat',
      'fstat',
      'access',
      'faccessat',
      'set_tid_address',
      'set_robust_list',
    ];
    const rest = [
      'rseq',
      'prlimit64',
      'getrandom',
      'exit_group',
      'write',
      'futex',
      'rt_sigaction',
      'rt_sigprocmask',
    ];
    const policy = { default: 'deny', allow: [...base, ...more, ...rest] } as const;
    const ok = await run({ command: ['/bin/echo', 'allowed'], seccomp: policy });
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.equal(ok.stdout, 'allowed\n');
    const refused = await run({ command: ['/bin/sleep', '0'], seccomp: policy });
    assert.notEqual(refused.exitCode, 0, 'sleep needs clock_nanosleep, which the list leaves out');
  });

  it('takes away the second layer only when namespaces are allowed by name', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    // An empty deny list still forbids nested user namespaces (bubblewrap --disable-userns)...
    const empty = await run({ command: ['sh', '-c', 'unshare -U true'], seccomp: { extends: 'none' } });
    assert.match(empty.stderr ?? '', /unshare failed: No space left on device/);
    // ...while allowing unshare allows them.
    const allowed = await run({ command: ['sh', '-c', 'unshare -U id -u'], seccomp: { allow: ['unshare'] } });
    assert.equal(allowed.exitCode, 0, allowed.stderr);
  });
});
