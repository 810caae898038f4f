/**
 * eBPF instruction encoding (Documentation/bpf/standardization/instruction-set.rst): 8 bytes,
 * `opcode:8 dst:4 src:4 offset:16 imm:32`, little-endian; a 64-bit immediate load takes two.
 */

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/** r0: return values; r1-r5: arguments (clobbered by calls); r6-r9: kept across calls; r10: frame. */
export const R0: Reg = 0;
export const R1: Reg = 1;
export const R2: Reg = 2;
export const R3: Reg = 3;
export const R4: Reg = 4;
export const R5: Reg = 5;
export const R6: Reg = 6;
export const R7: Reg = 7;
export const R8: Reg = 8;
export const R9: Reg = 9;
export const FP: Reg = 10;

// Instruction classes.
export const LD = 0x00;
export const LDX = 0x01;
export const ST = 0x02;
export const STX = 0x03;
export const ALU = 0x04;
export const JMP = 0x05;
export const ALU64 = 0x07;

/** Access sizes. */
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export type Size = (typeof Size)[keyof typeof Size];

export const MODE_IMM = 0x00;
export const MODE_MEM = 0x60;
export const MODE_ATOMIC = 0xc0;

/** Source operand: the immediate (K) or the src register (X). */
export const SRC_K = 0x00;
export const SRC_X = 0x08;

export const Alu = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  xor: 0xa0,
  mov: 0xb0,
} as const;
export type AluOp = keyof typeof Alu;

/** Conditional jumps; unsigned unless the name says signed (`s`). */
export const Jmp = {
  eq: 0x10,
  gt: 0x20,
  ge: 0x30,
  set: 0x40,
  ne: 0x50,
  sgt: 0x60,
  sge: 0x70,
  lt: 0xa0,
  le: 0xb0,
  slt: 0xc0,
  sle: 0xd0,
} as const;
export type JmpOp = keyof typeof Jmp;

export const JA = 0x00;
export const CALL = 0x80;
export const EXIT = 0x90;

/** ld_imm64 with src = BPF_PSEUDO_MAP_FD: imm holds a map's file descriptor. */
export const PSEUDO_MAP_FD = 1;

/** Helper function ids (include/uapi/linux/bpf.h, `enum bpf_func_id`). */
export const Helper = {
  mapLookupElem: 1,
  mapUpdateElem: 2,
  mapDeleteElem: 3,
  ktimeGetNs: 5,
  getSmpProcessorId: 8,
  getCurrentPidTgid: 14,
  probeReadUser: 112,
  probeReadKernel: 113,
  probeReadKernelStr: 115,
  ringbufOutput: 130,
} as const;

export interface Insn {
  readonly code: number;
  readonly dst: Reg;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

export function insn(code: number, dst: Reg, src: number, off: number, imm: number): Insn {
  if (!Number.isInteger(off) || off < -0x8000 || off > 0x7fff)
    throw new RangeError(`eBPF offset out of range: ${off}`);
  if (!Number.isInteger(imm) || imm < -0x80000000 || imm > 0xffffffff)
    throw new RangeError(`eBPF immediate out of range: ${imm}`);
  return { code, dst, src, off, imm: imm | 0 };
}

/** The bytes the kernel loads. */
export function encode(insns: readonly Insn[]): Buffer {
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    out.writeUInt8(i.code, n * 8);
    out.writeUInt8(((i.src & 0xf) << 4) | (i.dst & 0xf), n * 8 + 1);
    out.writeInt16LE(i.off, n * 8 + 2);
    out.writeInt32LE(i.imm, n * 8 + 4);
  });
  return out;
}
