import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeProgram, encodeProgram } from '../../../../../src/platform/linux/seccomp/bpf.js';
import {
  AUDIT_ARCH,
  compilePolicy,
  compileToBytes,
  X32_SYSCALL_BIT,
} from '../../../../../src/platform/linux/seccomp/compile.js';
import { DEFAULT_POLICY } from '../../../../../src/platform/linux/seccomp/default-policy.js';
import { actionValue, type FilterPolicy } from '../../../../../src/platform/linux/seccomp/policy.js';
import { syscallNumber, type SeccompArch } from '../../../../../src/platform/linux/seccomp/syscall-table.js';
import { disassemble, runFilter, validate } from '../../../../helpers/cbpf.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL = 0x80000000;

const program = compilePolicy(DEFAULT_POLICY);
const call = (arch: SeccompArch, name: string, ...args: bigint[]) => {
  const nr = syscallNumber(arch, name);
  assert.notEqual(nr, undefined, `${name} on ${arch}`);
  return runFilter(program, { arch: AUDIT_ARCH[arch], nr: nr as number, args });
};

describe('seccomp program layout', () => {
  it('checks the architecture before anything else and kills foreign ABIs', () => {
    const asm = disassemble(program);
    assert.equal(asm[0], '0: ld [4]');
    assert.match(asm[1] as string, /^1: jeq #0xc000003e /);
    assert.match(asm[2] as string, /^2: jeq #0xc00000b7 /);
    assert.equal(asm[3], '3: ret #0x80000000');
    for (const arch of [
      0x40000003 /* i386 */, 0x800000b7 /* big-endian arm64 */, 0xc00000f3 /* riscv64 */, 0,
    ])
      assert.equal(runFilter(program, { arch, nr: 39 }), KILL, `arch 0x${arch.toString(16)}`);
  });

  it('refuses every x32 system call on x86_64 right after loading the number', () => {
    const asm = disassemble(program);
    const x86 = Number(/jt (\d+)/.exec(asm[1] as string)?.[1]);
    assert.equal(asm[x86], `${x86}: ld [0]`);
    assert.match(asm[x86 + 1] as string, new RegExp(`^${x86 + 1}: jset #0x40000000 jt ${x86 + 2} `));
    assert.equal(asm[x86 + 2], `${x86 + 2}: ret #0x50001`);
    for (const name of ['getpid', 'read', 'execve', 'ptrace'])
      assert.equal(
        runFilter(program, {
          arch: AUDIT_ARCH.x86_64,
          nr: X32_SYSCALL_BIT | (syscallNumber('x86_64', name) ?? 0),
        }),
        EPERM,
      );
  });

  it('passes the kernel checks and survives an encode and decode round trip', () => {
    validate(program);
    const bytes = compileToBytes(DEFAULT_POLICY);
    assert.equal(bytes.length, program.length * 8);
    assert.deepEqual(decodeProgram(bytes), program);
    // Small enough to reach bwrap in one atomic pipe write (PIPE_BUF is 4096 bytes).
    assert.ok(bytes.length <= 4096, `${bytes.length} bytes`);
  });

  it('encodes each instruction as u16 code, u8 jt, u8 jf, u32 k, little endian', () => {
    const bytes = encodeProgram([{ code: 0x15, jt: 2, jf: 7, k: 0xc000003e }]);
    assert.deepEqual([...bytes], [0x15, 0x00, 0x02, 0x07, 0x3e, 0x00, 0x00, 0xc0]);
  });
});

describe('the default policy', () => {
  const denied = [
    ...['init_module', 'finit_module', 'delete_module', 'mount', 'umount2', 'pivot_root', 'move_mount'],
    ...['open_tree', 'fsopen', 'fsmount', 'fsconfig', 'fspick', 'mount_setattr', 'swapon', 'swapoff'],
    ...['reboot', 'kexec_load', 'kexec_file_load', 'bpf', 'perf_event_open', 'add_key', 'request_key'],
    ...['keyctl', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'userfaultfd', 'io_uring_setup'],
    ...['io_uring_enter', 'io_uring_register', 'unshare', 'setns', 'open_by_handle_at', 'name_to_handle_at'],
    ...['clock_settime', 'clock_adjtime', 'settimeofday', 'adjtimex', 'acct', 'quotactl', 'quotactl_fd'],
  ];
  for (const arch of ['x86_64', 'aarch64'] as const) {
    it(`answers every denied call with EPERM on ${arch}`, () => {
      for (const name of denied) assert.equal(call(arch, name), EPERM, name);
    });

    it(`allows what ordinary programs need on ${arch}`, () => {
      for (const name of ['read', 'write', 'openat', 'close', 'execve', 'mmap', 'futex', 'wait4', 'getpid'])
        assert.equal(call(arch, name), ALLOW, name);
      assert.equal(call(arch, 'clone', 0x01200011n /* fork: CLONE_CHILD_SETTID|CLEARTID|SIGCHLD */), ALLOW);
      assert.equal(call(arch, 'clone', 0x003d0f00n /* pthread_create */), ALLOW);
      assert.equal(call(arch, 'ioctl', 1n, 0x5401n /* TCGETS */), ALLOW);
      assert.equal(call(arch, 'personality', 0xffffffffn), ALLOW);
      assert.equal(call(arch, 'personality', 0x0040000n /* ADDR_NO_RANDOMIZE, setarch -R */), ALLOW);
    });

    it(`denies clone with any namespace flag and answers clone3 with ENOSYS on ${arch}`, () => {
      for (const flag of [
        0x00020000n,
        0x02000000n,
        0x04000000n,
        0x08000000n,
        0x10000000n,
        0x20000000n,
        0x40000000n,
      ])
        assert.equal(call(arch, 'clone', flag | 0x11n), EPERM, `flag 0x${flag.toString(16)}`);
      assert.equal(call(arch, 'clone3', 0n, 88n), ENOSYS);
    });

    it(`denies terminal injection ioctls even with junk in the high half on ${arch}`, () => {
      for (const req of [0x5412n, 0x541cn, 0x5423n]) {
        assert.equal(call(arch, 'ioctl', 0n, req), EPERM);
        // The kernel reads the request as 32 bits: 0xffffffff00005412 is still TIOCSTI.
        assert.equal(call(arch, 'ioctl', 0n, (0xffffffffn << 32n) | req), EPERM);
      }
    });

    it(`denies personality flags that weaken memory protection on ${arch}`, () => {
      assert.equal(call(arch, 'personality', 0x0100000n), EPERM);
      assert.equal(call(arch, 'personality', 0x0400000n), EPERM);
    });
  }

  it('leaves calls absent from an architecture out of its table instead of failing', () => {
    assert.equal(syscallNumber('aarch64', 'uselib'), undefined);
    assert.equal(call('x86_64', 'uselib'), EPERM);
    assert.equal(call('x86_64', 'iopl'), EPERM);
  });
});

// A direct transcription of what a policy means, to compare the compiled program against.
function model(policy: FilterPolicy, arch: SeccompArch, nr: number, args: readonly bigint[]): number {
  if (arch === 'x86_64' && (nr & X32_SYSCALL_BIT) !== 0) return EPERM;
  for (const rule of policy.rules) {
    if (syscallNumber(arch, rule.syscall) !== nr) continue;
    const holds = (rule.when ?? []).every((t) => {
      const full = args[t.arg] ?? 0n;
      const a = t.width === 32 ? full & 0xffffffffn : full;
      const v = t.width === 32 ? t.value & 0xffffffffn : t.value;
      return t.op === 'any-bits' ? (a & v) !== 0n : t.op === 'eq' ? a === v : a !== v;
    });
    if (holds) return actionValue(rule.action);
  }
  return actionValue(policy.defaultAction);
}

const NAMES = ['read', 'write', 'ioctl', 'clone', 'mount', 'ptrace', 'openat', 'getpid', 'kill', 'bpf'];
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const interesting = fc.oneof(u64, fc.constantFrom(0n, 1n, 0xffffffffn, 1n << 32n, 0x5412n, (1n << 64n) - 1n));
const test = fc.record({
  arg: fc.constantFrom(0, 1, 2, 3, 4, 5) as fc.Arbitrary<0 | 1 | 2 | 3 | 4 | 5>,
  op: fc.constantFrom('any-bits', 'eq', 'ne') as fc.Arbitrary<'any-bits' | 'eq' | 'ne'>,
  value: interesting,
  width: fc.constantFrom(32, 64) as fc.Arbitrary<32 | 64>,
});
const action = fc.oneof(
  fc.constant({ kind: 'allow' } as const),
  fc.integer({ min: 1, max: 4095 }).map((errno) => ({ kind: 'errno', errno }) as const),
);
const policyArb = (maxRules: number) =>
  fc.record({
    defaultAction: action,
    rules: fc.array(
      fc.record({ syscall: fc.constantFrom(...NAMES), action, when: fc.array(test, { maxLength: 3 }) }),
      { maxLength: maxRules },
    ),
  });

describe('the compiler, against a model of policy semantics', () => {
  it('gives the same answer as the model for random policies and calls', () => {
    fc.assert(
      fc.property(
        policyArb(12),
        fc.constantFrom('x86_64', 'aarch64') as fc.Arbitrary<SeccompArch>,
        fc.oneof(fc.constantFrom(...NAMES), fc.integer({ min: 0, max: 0xffffffff })),
        fc.array(interesting, { minLength: 6, maxLength: 6 }),
        (policy, arch, which, args) => {
          const prog = compilePolicy(policy);
          validate(prog);
          const nr = typeof which === 'string' ? (syscallNumber(arch, which) as number) : which;
          assert.equal(runFilter(prog, { arch: AUDIT_ARCH[arch], nr, args }), model(policy, arch, nr, args));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('rewrites jumps longer than 255 instructions so large policies still assemble correctly', () => {
    const names = [...new Set(['read', 'write', ...NAMES])];
    const rules = Array.from({ length: 300 }, (_, i) => ({
      syscall: names[i % names.length] as string,
      action: { kind: 'errno', errno: (i % 200) + 1 } as const,
      when: [{ arg: (i % 6) as 0, op: 'eq' as const, value: BigInt(i), width: 64 as const }],
    }));
    const policy: FilterPolicy = { defaultAction: { kind: 'allow' }, rules };
    const prog = compilePolicy(policy);
    validate(prog);
    assert.ok(prog.length > 1000, `${prog.length}`);
    for (let i = 0; i < 300; i += 17) {
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      args[i % 6] = BigInt(i);
      for (const arch of ['x86_64', 'aarch64'] as const) {
        const nr = syscallNumber(arch, rules[i]?.syscall as string) as number;
        assert.equal(runFilter(prog, { arch: AUDIT_ARCH[arch], nr, args }), model(policy, arch, nr, args));
      }
    }
  });

  it('refuses a policy naming a system call no architecture has', () => {
    assert.throws(
      () =>
        compilePolicy({
          defaultAction: { kind: 'allow' },
          rules: [{ syscall: 'frobnicate', action: { kind: 'allow' } }],
        }),
      /unknown system call: frobnicate/,
    );
  });
});
