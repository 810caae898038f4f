import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_RET,
  BPF_W,
  MAX_INSNS,
  type Insn,
} from '../../src/platform/linux/seccomp/bpf.js';

/** One system call as the kernel presents it to a filter (`struct seccomp_data`). */
export interface SeccompInput {
  readonly arch: number;
  readonly nr: number;
  readonly args?: readonly bigint[];
  readonly ip?: bigint;
}

const LD_ABS = BPF_LD | BPF_W | BPF_ABS;
const AND_K = BPF_ALU | BPF_AND | BPF_K;
const JUMPS = new Map([
  [BPF_JMP | BPF_JA, 'ja'],
  [BPF_JMP | BPF_JEQ | BPF_K, 'jeq'],
  [BPF_JMP | BPF_JGT | BPF_K, 'jgt'],
  [BPF_JMP | BPF_JGE | BPF_K, 'jge'],
  [BPF_JMP | BPF_JSET | BPF_K, 'jset'],
]);
const RET_K = BPF_RET | BPF_K;
const JA = BPF_JMP | BPF_JA;

/** The checks the kernel makes before accepting a seccomp program (bpf_check_classic + seccomp). */
export function validate(program: readonly Insn[]): void {
  if (program.length === 0 || program.length > MAX_INSNS) throw new Error(`bad length ${program.length}`);
  program.forEach((insn, pc) => {
    const left = program.length - pc - 1;
    if (insn.code === LD_ABS) {
      if (insn.k % 4 !== 0 || insn.k >= 64) throw new Error(`pc ${pc}: load outside seccomp_data: ${insn.k}`);
    } else if (insn.code === JA) {
      if (insn.k >= left) throw new Error(`pc ${pc}: ja past the end`);
    } else if (JUMPS.has(insn.code)) {
      if (insn.jt >= left || insn.jf >= left) throw new Error(`pc ${pc}: jump past the end`);
    } else if (insn.code !== RET_K && insn.code !== AND_K) {
      throw new Error(`pc ${pc}: opcode 0x${insn.code.toString(16)} not expected in corral's filters`);
    }
  });
  if ((program[program.length - 1] as Insn).code !== RET_K)
    throw new Error('the last instruction must return');
}

/** Runs a seccomp program the way the kernel does and returns its SECCOMP_RET_* value. */
export function runFilter(program: readonly Insn[], input: SeccompInput): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(input.nr >>> 0, 0);
  data.writeUInt32LE(input.arch >>> 0, 4);
  data.writeBigUInt64LE(input.ip ?? 0n, 8);
  (input.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let a = 0;
  for (let pc = 0, steps = 0; pc < program.length && steps <= program.length; pc++, steps++) {
    const insn = program[pc] as Insn;
    const op = JUMPS.get(insn.code);
    if (insn.code === LD_ABS) a = data.readUInt32LE(insn.k);
    else if (insn.code === AND_K) a = (a & insn.k) >>> 0;
    else if (insn.code === RET_K) return insn.k >>> 0;
    else if (op === 'ja') pc += insn.k;
    else if (op !== undefined) {
      const taken =
        op === 'jeq'
          ? a === insn.k
          : op === 'jgt'
            ? a > insn.k
            : op === 'jge'
              ? a >= insn.k
              : (a & insn.k) !== 0;
      pc += taken ? insn.jt : insn.jf;
    } else throw new Error(`pc ${pc}: cannot run opcode 0x${insn.code.toString(16)}`);
  }
  throw new Error('the program ran off its end without returning');
}

/** One line per instruction, in the style of `bpf_dbg`, for readable assertions and failures. */
export function disassemble(program: readonly Insn[]): string[] {
  return program.map((insn, pc) => {
    const hex = `0x${insn.k.toString(16)}`;
    const op = JUMPS.get(insn.code);
    if (insn.code === LD_ABS) return `${pc}: ld [${insn.k}]`;
    if (insn.code === AND_K) return `${pc}: and #${hex}`;
    if (insn.code === RET_K) return `${pc}: ret #${hex}`;
    if (op === 'ja') return `${pc}: ja ${pc + 1 + insn.k}`;
    if (op) return `${pc}: ${op} #${hex} jt ${pc + 1 + insn.jt} jf ${pc + 1 + insn.jf}`;
    return `${pc}: ??? 0x${insn.code.toString(16)}`;
  });
}
