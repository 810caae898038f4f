import {
  ALU64,
  Alu,
  CALL,
  EXIT,
  insn,
  JA,
  JMP,
  Jmp,
  LD,
  LDX,
  MODE_ATOMIC,
  MODE_IMM,
  MODE_MEM,
  PSEUDO_MAP_FD,
  Size,
  SRC_K,
  SRC_X,
  ST,
  STX,
  type AluOp,
  type Insn,
  type JmpOp,
  type Reg,
} from './insn.js';

type Item =
  | { readonly kind: 'insn'; readonly insn: Insn }
  | {
      readonly kind: 'jump';
      readonly code: number;
      readonly dst: Reg;
      readonly src: number;
      readonly imm: number;
      readonly label: string;
    }
  | { readonly kind: 'label'; readonly name: string };

/**
 * Builds an eBPF program with symbolic jump targets (forward or backward). Each method emits one
 * instruction (ldMap two), so a program reads like the assembly the verifier's log prints.
 */
export class Assembler {
  private readonly items: Item[] = [];
  private labels = 0;

  /** A fresh label name; `hint` makes the verifier log's context easier to follow. */
  newLabel(hint = 'L'): string {
    return `${hint}#${++this.labels}`;
  }

  label(name: string): this {
    this.items.push({ kind: 'label', name });
    return this;
  }

  /** dst = src (64-bit). */
  mov(dst: Reg, src: Reg): this {
    return this.emit(insn(ALU64 | Alu.mov | SRC_X, dst, src, 0, 0));
  }

  /** dst = imm (sign-extended to 64 bits). */
  movImm(dst: Reg, imm: number): this {
    return this.emit(insn(ALU64 | Alu.mov | SRC_K, dst, 0, 0, imm));
  }

  /** dst = dst <op> src (64-bit). */
  alu(op: AluOp, dst: Reg, src: Reg): this {
    return this.emit(insn(ALU64 | Alu[op] | SRC_X, dst, src, 0, 0));
  }

  /** dst = dst <op> imm (64-bit). */
  aluImm(op: AluOp, dst: Reg, imm: number): this {
    return this.emit(insn(ALU64 | Alu[op] | SRC_K, dst, 0, 0, imm));
  }

  /** dst = *(size *)(base + off). */
  load(size: Size, dst: Reg, base: Reg, off: number): this {
    return this.emit(insn(LDX | MODE_MEM | size, dst, base, off, 0));
  }

  /** *(size *)(base + off) = src. */
  store(size: Size, base: Reg, off: number, src: Reg): this {
    return this.emit(insn(STX | MODE_MEM | size, base, src, off, 0));
  }

  /** *(size *)(base + off) = imm. */
  storeImm(size: Size, base: Reg, off: number, imm: number): this {
    return this.emit(insn(ST | MODE_MEM | size, base, 0, off, imm));
  }

  /** *(u64 *)(base + off) += src, atomically (BPF_ATOMIC | BPF_ADD; BPF_XADD before 5.12). */
  atomicAdd(base: Reg, off: number, src: Reg): this {
    return this.emit(insn(STX | MODE_ATOMIC | Size.DW, base, src, off, Alu.add));
  }

  /** dst = the map with this index; the loader puts the map's fd in place of the index. */
  ldMap(dst: Reg, mapIndex: number): this {
    this.emit(insn(LD | MODE_IMM | Size.DW, dst, PSEUDO_MAP_FD, 0, mapIndex));
    return this.emit(insn(0, 0, 0, 0, 0));
  }

  call(helper: number): this {
    return this.emit(insn(JMP | CALL, 0, 0, 0, helper));
  }

  exit(): this {
    return this.emit(insn(JMP | EXIT, 0, 0, 0, 0));
  }

  goto(label: string): this {
    this.items.push({ kind: 'jump', code: JMP | JA, dst: 0, src: 0, imm: 0, label });
    return this;
  }

  /** if (dst <op> imm) goto label. */
  jumpImm(op: JmpOp, dst: Reg, imm: number, label: string): this {
    this.items.push({ kind: 'jump', code: JMP | Jmp[op] | SRC_K, dst, src: 0, imm, label });
    return this;
  }

  /** if (dst <op> src) goto label. */
  jumpReg(op: JmpOp, dst: Reg, src: Reg, label: string): this {
    this.items.push({ kind: 'jump', code: JMP | Jmp[op] | SRC_X, dst, src, imm: 0, label });
    return this;
  }

  assemble(): Insn[] {
    const at = new Map<string, number>();
    let pc = 0;
    for (const item of this.items) {
      if (item.kind === 'label') {
        if (at.has(item.name)) throw new Error(`eBPF label defined twice: ${item.name}`);
        at.set(item.name, pc);
      } else pc++;
    }
    const out: Insn[] = [];
    for (const item of this.items) {
      if (item.kind === 'insn') out.push(item.insn);
      else if (item.kind === 'jump') {
        const target = at.get(item.label);
        if (target === undefined) throw new Error(`eBPF jump to an undefined label: ${item.label}`);
        // Offsets count from the instruction after the jump.
        out.push(insn(item.code, item.dst, item.src, target - (out.length + 1), item.imm));
      }
    }
    return out;
  }

  private emit(i: Insn): this {
    this.items.push({ kind: 'insn', insn: i });
    return this;
  }
}
