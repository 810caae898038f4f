/**
 * Classic BPF as the kernel's seccomp filter runs it: `struct sock_filter` is 8 bytes, little
 * endian on every architecture corral filters (u16 code, u8 jt, u8 jf, u32 k).
 */
export interface Insn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Opcode parts, from linux/bpf_common.h.
export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_K = 0x00;
export const BPF_AND = 0x50;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

/** Seccomp return values (linux/seccomp.h); the low 16 bits carry the errno for RET_ERRNO. */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** `struct seccomp_data`: nr, arch, instruction_pointer, then six 64-bit arguments. */
export const SECCOMP_DATA = { nr: 0, arch: 4, ip: 8, args: 16 } as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const MAX_INSNS = 4096;

export const ldAbs = (offset: number): Insn => ({ code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: offset });
export const ret = (value: number): Insn => ({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: value >>> 0 });
export const andK = (mask: number): Insn => ({
  code: BPF_ALU | BPF_AND | BPF_K,
  jt: 0,
  jf: 0,
  k: mask >>> 0,
});
export const jump = (op: number, k: number, jt: number, jf: number): Insn => ({
  code: BPF_JMP | op | BPF_K,
  jt,
  jf,
  k: k >>> 0,
});
export const ja = (offset: number): Insn => ({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offset >>> 0 });

/** The bytes bubblewrap's `--seccomp FD` expects: an array of `struct sock_filter`. */
export function encodeProgram(program: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(insn.jt, i * 8 + 2);
    buf.writeUInt8(insn.jf, i * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return buf;
}

export function decodeProgram(bytes: Uint8Array): Insn[] {
  if (bytes.length % 8 !== 0)
    throw new RangeError(`a BPF program is a multiple of 8 bytes, got ${bytes.length}`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: Insn[] = [];
  for (let off = 0; off < buf.length; off += 8) {
    out.push({
      code: buf.readUInt16LE(off),
      jt: buf.readUInt8(off + 2),
      jf: buf.readUInt8(off + 3),
      k: buf.readUInt32LE(off + 4),
    });
  }
  return out;
}
