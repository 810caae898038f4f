import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  isKnownSyscall,
  syscallNumber,
  syscallTable,
} from '../../../../../src/platform/linux/seccomp/syscall-table.js';

describe('system call tables', () => {
  it('places well-known calls at their kernel numbers', () => {
    const x86 = { read: 0, ioctl: 16, clone: 56, ptrace: 101, mount: 165, unshare: 272, bpf: 321 };
    const arm = { ioctl: 29, mount: 40, unshare: 97, ptrace: 117, clone: 220, bpf: 280, openat: 56 };
    for (const [name, nr] of Object.entries(x86)) assert.equal(syscallNumber('x86_64', name), nr, name);
    for (const [name, nr] of Object.entries(arm)) assert.equal(syscallNumber('aarch64', name), nr, name);
    // Since 424 every architecture shares the same numbers.
    for (const [name, nr] of [
      ['io_uring_setup', 425],
      ['clone3', 435],
      ['mount_setattr', 442],
      ['listns', 470],
    ] as const) {
      assert.equal(syscallNumber('x86_64', name), nr);
      assert.equal(syscallNumber('aarch64', name), nr);
    }
  });

  it('knows calls that exist on only one architecture and no invented ones', () => {
    assert.equal(syscallNumber('aarch64', 'open'), undefined);
    assert.equal(syscallNumber('x86_64', 'open'), 2);
    assert.ok(isKnownSyscall('open'));
    assert.ok(!isKnownSyscall('stime'), 'stime exists only on 32-bit x86');
    assert.ok(!isKnownSyscall('frobnicate'));
  });

  it('gives every number at most one name', () => {
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const seen = new Map<number, string>();
      for (const [name, nr] of syscallTable(arch)) {
        assert.ok(!seen.has(nr), `${arch}: ${nr} is both ${seen.get(nr)} and ${name}`);
        seen.set(nr, name);
      }
    }
  });

  const x86Header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
  it('agrees with the host kernel headers for x86_64', (t) => {
    if (!existsSync(x86Header)) return t.skip(`${x86Header} is not installed (linux-libc-dev)`);
    const defs = [...readFileSync(x86Header, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm)];
    assert.ok(defs.length > 300);
    for (const [, name, nr] of defs) assert.equal(syscallNumber('x86_64', name as string), Number(nr), name);
  });

  it('agrees with the generic kernel headers for aarch64', (t) => {
    const header = '/usr/include/asm-generic/unistd.h';
    const gcc = ['/usr/bin/gcc', '/usr/bin/cc'].find((p) => existsSync(p));
    if (!existsSync(header) || !gcc) return t.skip('asm-generic/unistd.h or a C compiler is missing');
    // arm64's uapi asm/unistd.h: these ABI switches, then the generic table, with 64-bit longs.
    const prelude = [
      'RENAMEAT',
      'NEW_STAT',
      'SET_GET_RLIMIT',
      'TIME32_SYSCALLS',
      'SYS_CLONE3',
      'MEMFD_SECRET',
    ]
      .map((w) => `#define __ARCH_WANT_${w}\n`)
      .join('');
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-unistd-'));
    try {
      const src = path.join(dir, 'a.c');
      writeFileSync(src, `${prelude}#include <asm-generic/unistd.h>\n`);
      const macros = execFileSync(gcc, ['-E', '-dM', '-D__BITS_PER_LONG=64', src], { encoding: 'utf8' });
      const names = [...macros.matchAll(/^#define __NR_(\w+) /gm)].map((m) => m[1] as string);
      const body = names
        .filter((n) => n !== 'syscalls' && n !== 'arch_specific_syscall')
        .map((n) => `#ifdef __NR_${n}\nprintf("%s %d\\n", "${n}", (int)(__NR_${n}));\n#endif\n`)
        .join('');
      writeFileSync(
        src,
        `#include <stdio.h>\n${prelude}#include <asm-generic/unistd.h>\nint main(void){\n${body}return 0;}\n`,
      );
      execFileSync(gcc, ['-D__BITS_PER_LONG=64', '-o', path.join(dir, 'a'), src]);
      const rows = execFileSync(path.join(dir, 'a'), { encoding: 'utf8' }).trim().split('\n');
      assert.ok(rows.length > 280);
      for (const row of rows) {
        const [name, nr] = row.split(' ');
        assert.equal(syscallNumber('aarch64', name as string), Number(nr), name);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
