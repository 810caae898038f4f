import { Assembler } from './assembler.js';
import {
  BPF_JEQ,
  BPF_JGE,
  BPF_JSET,
  SECCOMP_DATA,
  SECCOMP_RET_KILL_PROCESS,
  encodeProgram,
  ldAbs,
  ret,
  type Insn,
} from './bpf.js';
import { actionValue, DENY_EPERM, type ArgTest, type FilterPolicy, type SyscallRule } from './policy.js';
import { isKnownSyscall, SECCOMP_ARCHES, syscallNumber, type SeccompArch } from './syscall-table.js';

/** `AUDIT_ARCH_*` values the kernel puts in `seccomp_data.arch` (linux/audit.h). */
export const AUDIT_ARCH: Record<SeccompArch, number> = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
};

/** x32 system calls run on x86_64 with this bit set in their number (__X32_SYSCALL_BIT). */
export const X32_SYSCALL_BIT = 0x40000000;

/**
 * Compiles a policy into one program for every architecture corral knows. The architecture is
 * checked first: a system call number means nothing until its ABI is known, so a call from any
 * other ABI (i386 through int 0x80, big-endian arm64, ...) kills the process rather than being
 * matched against the wrong table. On x86_64 the x32 ABI is refused outright: its numbers alias
 * the 64-bit ones with a high bit set, a classic way around deny lists.
 */
export function compilePolicy(policy: FilterPolicy): Insn[] {
  for (const rule of policy.rules) {
    if (!isKnownSyscall(rule.syscall))
      throw new Error(`seccomp policy names an unknown system call: ${rule.syscall}`);
  }
  const asm = new Assembler();
  const archLabels = SECCOMP_ARCHES.map((arch) => asm.newLabel(arch));
  asm.emit(ldAbs(SECCOMP_DATA.arch));
  SECCOMP_ARCHES.forEach((arch, i) => asm.cond(BPF_JEQ, AUDIT_ARCH[arch], archLabels[i] as string, 'next'));
  asm.emit(ret(SECCOMP_RET_KILL_PROCESS));
  SECCOMP_ARCHES.forEach((arch, i) => {
    asm.label(archLabels[i] as string);
    asm.emit(ldAbs(SECCOMP_DATA.nr));
    if (arch === 'x86_64') {
      const native = asm.newLabel('native');
      asm.cond(BPF_JSET, X32_SYSCALL_BIT, 'next', native);
      asm.emit(ret(actionValue(DENY_EPERM)));
      asm.label(native);
    }
    dispatch(asm, groupRules(policy.rules, arch), actionValue(policy.defaultAction));
  });
  return asm.assemble();
}

/** The bytes to hand to bubblewrap's `--seccomp FD`. */
export function compileToBytes(policy: FilterPolicy): Buffer {
  return encodeProgram(compilePolicy(policy));
}

interface Group {
  readonly nr: number;
  readonly rules: readonly SyscallRule[];
}

function groupRules(rules: readonly SyscallRule[], arch: SeccompArch): Group[] {
  const byNr = new Map<number, SyscallRule[]>();
  for (const rule of rules) {
    const nr = syscallNumber(arch, rule.syscall);
    if (nr === undefined) continue; // this architecture has no such call: nothing to filter
    byNr.set(nr, [...(byNr.get(nr) ?? []), rule]);
  }
  return [...byNr.entries()].sort(([a], [b]) => a - b).map(([nr, rs]) => ({ nr, rules: rs }));
}

/**
 * A binary search over the sorted system call numbers (A holds the number): every call pays
 * about log2(rules) comparisons instead of one per rule.
 */
function dispatch(asm: Assembler, groups: readonly Group[], fallback: number): void {
  if (groups.length <= 3) {
    for (const g of groups) {
      const skip = asm.newLabel('nr');
      asm.cond(BPF_JEQ, g.nr, 'next', skip);
      body(asm, g.rules, fallback);
      asm.label(skip);
    }
    asm.emit(ret(fallback));
    return;
  }
  const mid = Math.floor(groups.length / 2);
  const right = asm.newLabel('ge');
  asm.cond(BPF_JGE, (groups[mid] as Group).nr, right, 'next');
  dispatch(asm, groups.slice(0, mid), fallback);
  asm.label(right);
  dispatch(asm, groups.slice(mid), fallback);
}

/** The rules of one system call, first match wins. Ends in a return: A is clobbered by loads. */
function body(asm: Assembler, rules: readonly SyscallRule[], fallback: number): void {
  for (const rule of rules) {
    if (!rule.when || rule.when.length === 0) {
      asm.emit(ret(actionValue(rule.action)));
      return;
    }
    const fail = asm.newLabel('fail');
    for (const test of rule.when) argTest(asm, test, fail);
    asm.emit(ret(actionValue(rule.action)));
    asm.label(fail);
  }
  asm.emit(ret(fallback));
}

const lo = (v: bigint) => Number(v & 0xffffffffn);
const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);

/** Falls through when the test holds, jumps to `fail` when it does not. */
function argTest(asm: Assembler, t: ArgTest, fail: string): void {
  const low = SECCOMP_DATA.args + 8 * t.arg;
  // Both architectures are little endian: the low half of an argument comes first.
  const high = low + 4;
  const wide = t.width === 64;
  const pass = asm.newLabel('pass');
  switch (t.op) {
    case 'any-bits':
      if (!wide || hi(t.value) === 0) {
        asm.emit(ldAbs(low));
        asm.cond(BPF_JSET, lo(t.value), 'next', fail);
        return;
      }
      if (lo(t.value) !== 0) {
        asm.emit(ldAbs(low));
        asm.cond(BPF_JSET, lo(t.value), pass, 'next');
      }
      asm.emit(ldAbs(high));
      asm.cond(BPF_JSET, hi(t.value), 'next', fail);
      asm.label(pass);
      return;
    case 'eq':
      asm.emit(ldAbs(low));
      asm.cond(BPF_JEQ, lo(t.value), 'next', fail);
      if (wide) {
        asm.emit(ldAbs(high));
        asm.cond(BPF_JEQ, hi(t.value), 'next', fail);
      }
      return;
    case 'ne':
      asm.emit(ldAbs(low));
      if (!wide) {
        asm.cond(BPF_JEQ, lo(t.value), fail, 'next');
        return;
      }
      asm.cond(BPF_JEQ, lo(t.value), 'next', pass);
      asm.emit(ldAbs(high));
      asm.cond(BPF_JEQ, hi(t.value), fail, 'next');
      asm.label(pass);
      return;
  }
}
