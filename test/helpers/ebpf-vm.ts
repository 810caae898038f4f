import { Helper } from '../../src/platform/linux/ebpf/insn.js';

/**
 * An interpreter for the eBPF that corral generates, over a sparse fake memory: enough to run
 * the exec probe's programs against fake kernel structures in a unit test. It is not the
 * kernel's verifier (the integration tests load the programs for real); it checks what a run
 * does: which memory it reads, what it writes to its maps and ring.
 */

const U64 = (1n << 64n) - 1n;
const s64 = (v: bigint) => BigInt.asIntN(64, v);

/** Byte-addressed memory made of separate blocks; a read outside every block faults. */
export class Memory {
  private readonly blocks: { at: bigint; bytes: Buffer }[] = [];
  private next = 0x1000_0000n;

  alloc(size: number): bigint {
    const at = this.next;
    this.blocks.push({ at, bytes: Buffer.alloc(size) });
    this.next += BigInt(size + 4096) & ~4095n;
    return at;
  }

  private find(at: bigint, size: number): { bytes: Buffer; off: number } | undefined {
    for (const b of this.blocks)
      if (at >= b.at && at + BigInt(size) <= b.at + BigInt(b.bytes.length))
        return { bytes: b.bytes, off: Number(at - b.at) };
    return undefined;
  }

  read(at: bigint, size: number): Buffer | undefined {
    const b = this.find(at, size);
    return b ? Buffer.from(b.bytes.subarray(b.off, b.off + size)) : undefined;
  }

  write(at: bigint, data: Buffer): void {
    const b = this.find(at, data.length);
    if (!b) throw new Error(`write outside memory at 0x${at.toString(16)} (${data.length} bytes)`);
    data.copy(b.bytes, b.off);
  }

  u64(at: bigint, v: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    this.write(at, b);
  }

  u32(at: bigint, v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.write(at, b);
  }

  /** A NUL-terminated string in a block of its own; returns its address. */
  string(s: string): bigint {
    const bytes = Buffer.from(`${s}\0`);
    const at = this.alloc(bytes.length);
    this.write(at, bytes);
    return at;
  }

  load(at: bigint, size: number): bigint {
    const b = this.read(at, size);
    if (!b) throw new Error(`load outside memory at 0x${at.toString(16)} (${size} bytes)`);
    return size === 8 ? b.readBigUInt64LE() : BigInt(b.readUIntLE(0, size));
  }
}

export interface VmMap {
  readonly type: 'hash' | 'array' | 'ringbuf';
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** hash: key (hex) -> address of its value; array: index -> address. */
  readonly entries: Map<string, bigint>;
  /** ringbuf: the records written, in order. */
  readonly records: Buffer[];
  /** ringbuf: refuse every record, as a full ring does. */
  full?: boolean;
}

export function newMap(type: VmMap['type'], keySize: number, valueSize: number, maxEntries: number): VmMap {
  return { type, keySize, valueSize, maxEntries, entries: new Map(), records: [] };
}

export interface VmContext {
  readonly mem: Memory;
  /** By the index the programs' ld_imm64 instructions use. */
  readonly maps: readonly VmMap[];
  /** What bpf_get_current_pid_tgid returns: tgid << 32 | pid. */
  readonly current: bigint;
  now?: bigint;
}

const MAP_TAG = 0xfeed_0000_0000n;

function mapValue(ctx: VmContext, map: VmMap, key: Buffer): bigint | undefined {
  if (map.type === 'array') {
    const i = key.readUInt32LE();
    if (i >= map.maxEntries) return undefined;
    let at = map.entries.get(String(i));
    if (at === undefined) map.entries.set(String(i), (at = ctx.mem.alloc(map.valueSize)));
    return at;
  }
  return map.entries.get(key.toString('hex'));
}

function call(ctx: VmContext, id: number, r: bigint[]): bigint {
  const mem = ctx.mem;
  const map = () => {
    const m = ctx.maps[Number((r[1] as bigint) - MAP_TAG)];
    if (!m) throw new Error('helper called without a map in r1');
    return m;
  };
  const key = (m: VmMap) => mem.read(r[2] as bigint, m.keySize) ?? Buffer.alloc(0);
  const [a1, a2, a3] = [r[1] as bigint, r[2] as bigint, r[3] as bigint];
  switch (id) {
    case Helper.mapLookupElem: {
      const m = map();
      return mapValue(ctx, m, key(m)) ?? 0n;
    }
    case Helper.mapUpdateElem: {
      const m = map();
      const value = mem.read(a3, m.valueSize) as Buffer;
      let at = mapValue(ctx, m, key(m));
      if (at === undefined) {
        if (m.type !== 'hash' || m.entries.size >= m.maxEntries) return -7n & U64; // E2BIG
        at = mem.alloc(m.valueSize);
        m.entries.set(key(m).toString('hex'), at);
      }
      mem.write(at, value);
      return 0n;
    }
    case Helper.mapDeleteElem: {
      const m = map();
      return m.entries.delete(key(m).toString('hex')) ? 0n : -2n & U64;
    }
    case Helper.ktimeGetNs:
      return (ctx.now = (ctx.now ?? 1_000_000n) + 1000n);
    case Helper.getSmpProcessorId:
      return 0n;
    case Helper.getCurrentPidTgid:
      return ctx.current;
    case Helper.probeReadUser:
    case Helper.probeReadKernel: {
      const size = Number(a2);
      const got = mem.read(a3, size);
      mem.write(a1, got ?? Buffer.alloc(size)); // zeroed on a fault, as the kernel does
      return got ? 0n : -14n & U64;
    }
    case Helper.probeReadKernelStr: {
      const size = Number(a2);
      const out = Buffer.alloc(size);
      for (let i = 0; i < size; i++) {
        const c = mem.read(a3 + BigInt(i), 1);
        if (!c) {
          mem.write(a1, Buffer.alloc(size));
          return -14n & U64;
        }
        out[i] = i === size - 1 ? 0 : (c[0] as number);
        if (out[i] === 0) {
          mem.write(a1, out.subarray(0, i + 1));
          return BigInt(i + 1);
        }
      }
      return BigInt(size);
    }
    case Helper.ringbufOutput: {
      const m = map();
      if (m.full) return -28n & U64; // ENOSPC
      m.records.push(mem.read(a2, Number(a3)) as Buffer);
      return 0n;
    }
    default:
      throw new Error(`helper ${id} is not modelled`);
  }
}

/** Runs a program (bytes as the kernel gets them) with r1 = ctx; returns r0. */
export function runProgram(ctx: VmContext, insns: Buffer, ctxAddress: bigint, maxSteps = 200_000): bigint {
  const r: bigint[] = Array.from({ length: 11 }, () => 0n);
  const stack = ctx.mem.alloc(512);
  r[1] = ctxAddress;
  r[10] = stack + 512n;
  const n = insns.length / 8;
  for (let pc = 0, steps = 0; pc < n; pc++) {
    if (++steps > maxSteps) throw new Error('the program did not end');
    const code = insns.readUInt8(pc * 8);
    const dst = insns.readUInt8(pc * 8 + 1) & 0xf;
    const src = insns.readUInt8(pc * 8 + 1) >> 4;
    const off = insns.readInt16LE(pc * 8 + 2);
    const imm = BigInt(insns.readInt32LE(pc * 8 + 4));
    const cls = code & 7;
    const size = [4, 2, 1, 8][(code >> 3) & 3] as number;
    if (code === 0x18) {
      // ld_imm64; a map reference (src 1) becomes a handle the helpers understand
      const hi = BigInt(insns.readUInt32LE(pc * 8 + 12));
      r[dst] = src === 1 ? MAP_TAG + imm : (BigInt.asUintN(32, imm) | (hi << 32n)) & U64;
      pc++;
    } else if (cls === 0x07) {
      const b = code & 0x08 ? (r[src] as bigint) : imm & U64;
      const a = r[dst] as bigint;
      const ops: Record<number, () => bigint> = {
        0x00: () => a + b,
        0x10: () => a - b,
        0x20: () => a * b,
        0x40: () => a | b,
        0x50: () => a & b,
        0x60: () => a << (b & 63n),
        0x70: () => a >> (b & 63n),
        0xa0: () => a ^ b,
        0xb0: () => b,
      };
      const op = ops[code & 0xf0];
      if (!op) throw new Error(`ALU op 0x${code.toString(16)} not modelled`);
      r[dst] = op() & U64;
    } else if (cls === 0x01) {
      r[dst] = ctx.mem.load(((r[src] as bigint) + BigInt(off)) & U64, size);
    } else if (cls === 0x03 && (code & 0xe0) === 0x60) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(r[src] as bigint);
      ctx.mem.write(((r[dst] as bigint) + BigInt(off)) & U64, b.subarray(0, size));
    } else if (cls === 0x02) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(imm & U64);
      ctx.mem.write(((r[dst] as bigint) + BigInt(off)) & U64, b.subarray(0, size));
    } else if (cls === 0x03 && (code & 0xe0) === 0xc0 && imm === 0n) {
      const at = ((r[dst] as bigint) + BigInt(off)) & U64;
      ctx.mem.u64(at, ctx.mem.load(at, 8) + (r[src] as bigint));
    } else if (cls === 0x05) {
      const op = code & 0xf0;
      if (op === 0x90) return r[0] as bigint;
      if (op === 0x80) {
        r[0] = call(ctx, Number(imm), r);
        for (let i = 1; i <= 5; i++) r[i] = 0xdead_beefn; // clobbered, as the verifier assumes
        continue;
      }
      const a = r[dst] as bigint;
      const b = code & 0x08 ? (r[src] as bigint) : imm & U64;
      const tests: Record<number, () => boolean> = {
        0x00: () => true,
        0x10: () => a === b,
        0x20: () => a > b,
        0x30: () => a >= b,
        0x40: () => (a & b) !== 0n,
        0x50: () => a !== b,
        0x60: () => s64(a) > s64(b),
        0x70: () => s64(a) >= s64(b),
        0xa0: () => a < b,
        0xb0: () => a <= b,
        0xc0: () => s64(a) < s64(b),
        0xd0: () => s64(a) <= s64(b),
      };
      const test = tests[op];
      if (!test) throw new Error(`jump op 0x${code.toString(16)} not modelled`);
      if (test()) pc += off;
    } else throw new Error(`instruction 0x${code.toString(16)} at ${pc} not modelled`);
  }
  throw new Error('the program ran off its end');
}
