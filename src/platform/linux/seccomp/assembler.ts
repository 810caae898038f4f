import { BPF_JMP, BPF_K, ja, MAX_INSNS, type Insn } from './bpf.js';

/** A jump target: a label defined later, or `next` (fall through). */
export type Target = string | 'next';

type Item =
  | { readonly kind: 'insn'; readonly insn: Insn }
  | { readonly kind: 'label'; readonly name: string }
  | { readonly kind: 'goto'; readonly label: string }
  | {
      readonly kind: 'cond';
      readonly op: number;
      readonly k: number;
      readonly jt: Target;
      readonly jf: Target;
    };

/**
 * Builds a classic-BPF program with symbolic forward jumps. A conditional jump can only skip 255
 * instructions (jt/jf are u8); one whose target lands further away is rewritten into a short
 * conditional over unconditional `ja` jumps, which carry a 32-bit offset. Layout is repeated until
 * no jump needs rewriting, so programs of any shape assemble.
 */
export class Assembler {
  private readonly items: Item[] = [];
  private readonly labelAt = new Map<string, number>();
  private labels = 0;

  emit(insn: Insn): void {
    this.items.push({ kind: 'insn', insn });
  }
  /** `if (A <op> k) goto jt else goto jf`, with op one of BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET. */
  cond(op: number, k: number, jt: Target, jf: Target): void {
    this.items.push({ kind: 'cond', op, k: k >>> 0, jt, jf });
  }
  goto(label: string): void {
    this.items.push({ kind: 'goto', label });
  }
  label(name: string): void {
    this.items.push({ kind: 'label', name });
  }
  newLabel(hint = 'L'): string {
    return `${hint}#${++this.labels}`;
  }

  assemble(): Insn[] {
    const long = new Set<number>();
    for (;;) {
      const positions = this.layout(long);
      const grew = this.items.some((item, i) => {
        if (item.kind !== 'cond' || long.has(i)) return false;
        const from = (positions.get(i) as number) + 1;
        const far = [item.jt, item.jf].some((t) => t !== 'next' && this.offset(t, from) > 255);
        if (far) long.add(i);
        return far;
      });
      if (!grew) return this.emitAll(positions, long);
    }
  }

  private layout(long: ReadonlySet<number>) {
    const positions = new Map<number, number>();
    this.labelAt.clear();
    let pc = 0;
    this.items.forEach((item, i) => {
      positions.set(i, pc);
      const size = item.kind === 'label' ? 0 : item.kind === 'cond' && long.has(i) ? longSize(item) : 1;
      if (item.kind === 'label') {
        if (this.labelAt.has(item.name)) throw new Error(`BPF label defined twice: ${item.name}`);
        this.labelAt.set(item.name, pc);
      }
      pc += size;
    });
    if (pc > MAX_INSNS)
      throw new RangeError(`seccomp program too long: ${pc} instructions (max ${MAX_INSNS})`);
    return positions;
  }

  private offset(label: string, from: number): number {
    const at = this.labelAt.get(label);
    if (at === undefined) throw new Error(`BPF jump to an undefined label: ${label}`);
    if (at < from) throw new Error(`BPF jumps only forward; ${label} is behind`);
    return at - from;
  }

  private emitAll(positions: Map<number, number>, long: ReadonlySet<number>): Insn[] {
    const out: Insn[] = [];
    this.items.forEach((item, i) => {
      const pc = positions.get(i) as number;
      if (item.kind === 'insn') out.push(item.insn);
      else if (item.kind === 'goto') out.push(ja(this.offset(item.label, pc + 1)));
      else if (item.kind === 'cond' && !long.has(i)) {
        const off = (t: Target) => (t === 'next' ? 0 : this.offset(t, pc + 1));
        out.push({ code: BPF_JMP | item.op | BPF_K, jt: off(item.jt), jf: off(item.jf), k: item.k });
      } else if (item.kind === 'cond') {
        // True lands on the first ja, false skips it: to the second ja, or on past the block.
        const hasJf = item.jf !== 'next';
        out.push({ code: BPF_JMP | item.op | BPF_K, jt: 0, jf: 1, k: item.k });
        out.push(item.jt === 'next' ? ja(hasJf ? 1 : 0) : ja(this.offset(item.jt, pc + 2)));
        if (hasJf) out.push(ja(this.offset(item.jf as string, pc + 3)));
      }
    });
    return out;
  }
}

function longSize(item: { jf: Target }): number {
  return item.jf === 'next' ? 2 : 3;
}
