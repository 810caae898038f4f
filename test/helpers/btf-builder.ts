import { BtfKind } from '../../src/platform/linux/ebpf/btf.js';

type Member = readonly [name: string, type: number, byteOffset: number];

interface TypeRecord {
  kind: number;
  name: string;
  /** size, or the type referred to */
  sizeOrType: number;
  kindFlag?: boolean;
  tail: Buffer;
}

/**
 * Writes BTF the way the kernel publishes it (little-endian, types numbered from 1), for tests
 * of the reader. Structs can be declared first and given members later, so they can point at
 * each other.
 */
export class BtfBuilder {
  private readonly types: TypeRecord[] = [];
  private readonly strings: string[] = [''];
  private readonly stringOffsets = new Map<string, number>([['', 0]]);
  private stringBytes = 1;

  private str(s: string): number {
    let off = this.stringOffsets.get(s);
    if (off === undefined) {
      off = this.stringBytes;
      this.stringOffsets.set(s, off);
      this.strings.push(s);
      this.stringBytes += Buffer.byteLength(s) + 1;
    }
    return off;
  }

  private add(t: TypeRecord): number {
    this.types.push(t);
    return this.types.length;
  }

  int(name: string, size: number): number {
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(size * 8); // encoding 0, offset 0, bits
    return this.add({ kind: BtfKind.INT, name, sizeOrType: size, tail });
  }

  ptr(to: number): number {
    return this.add({ kind: BtfKind.PTR, name: '', sizeOrType: to, tail: Buffer.alloc(0) });
  }

  typedef(name: string, to: number): number {
    return this.add({ kind: BtfKind.TYPEDEF, name, sizeOrType: to, tail: Buffer.alloc(0) });
  }

  const(to: number): number {
    return this.add({ kind: BtfKind.CONST, name: '', sizeOrType: to, tail: Buffer.alloc(0) });
  }

  array(element: number, length: number, index: number): number {
    const tail = Buffer.alloc(12);
    tail.writeUInt32LE(element, 0);
    tail.writeUInt32LE(index, 4);
    tail.writeUInt32LE(length, 8);
    return this.add({ kind: BtfKind.ARRAY, name: '', sizeOrType: 0, tail });
  }

  /** A struct (or union) of `size` bytes; members now or later through setMembers. */
  struct(name: string, size: number, members: readonly Member[] = [], union = false): number {
    const id = this.add({
      kind: union ? BtfKind.UNION : BtfKind.STRUCT,
      name,
      sizeOrType: size,
      tail: Buffer.alloc(0),
    });
    if (members.length) this.setMembers(id, members);
    return id;
  }

  setMembers(id: number, members: readonly Member[], bitfield?: { member: string; bits: number }): void {
    const t = this.types[id - 1] as TypeRecord;
    const tail = Buffer.alloc(12 * members.length);
    members.forEach(([name, type, off], i) => {
      tail.writeUInt32LE(this.str(name), 12 * i);
      tail.writeUInt32LE(type, 12 * i + 4);
      const bits = off * 8;
      tail.writeUInt32LE(
        bitfield ? ((name === bitfield.member ? bitfield.bits : 0) << 24) | bits : bits,
        12 * i + 8,
      );
    });
    t.tail = tail;
    t.kindFlag = bitfield !== undefined;
  }

  enum(name: string, values: readonly (readonly [string, number])[]): number {
    const tail = Buffer.alloc(8 * values.length);
    values.forEach(([n, v], i) => {
      tail.writeUInt32LE(this.str(n), 8 * i);
      tail.writeInt32LE(v, 8 * i + 4);
    });
    return this.add({ kind: BtfKind.ENUM, name, sizeOrType: 4, tail });
  }

  funcProto(params: readonly number[], returns = 0): number {
    const tail = Buffer.alloc(8 * params.length);
    params.forEach((p, i) => tail.writeUInt32LE(p, 8 * i + 4));
    return this.add({ kind: BtfKind.FUNC_PROTO, name: '', sizeOrType: returns, tail });
  }

  /** A raw tracepoint's typedef as the kernel's BTF has it: `void *` first, then the arguments. */
  tracepoint(name: string, args: readonly number[]): number {
    return this.typedef(`btf_trace_${name}`, this.ptr(this.funcProto([this.ptr(0), ...args])));
  }

  build(): Buffer {
    const types = Buffer.concat(
      this.types.map((t) => {
        const head = Buffer.alloc(12);
        const vlen =
          t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION
            ? t.tail.length / 12
            : t.kind === BtfKind.ENUM || t.kind === BtfKind.FUNC_PROTO
              ? t.tail.length / 8
              : 0;
        head.writeUInt32LE(this.str(t.name), 0);
        head.writeUInt32LE((((t.kindFlag ? 1 : 0) << 31) | (t.kind << 24) | vlen) >>> 0, 4);
        head.writeUInt32LE(t.sizeOrType, 8);
        return Buffer.concat([head, t.tail]);
      }),
    );
    const strings = Buffer.from(this.strings.map((s) => `${s}\0`).join(''));
    const header = Buffer.alloc(24);
    header.writeUInt16LE(0xeb9f, 0);
    header.writeUInt8(1, 2);
    header.writeUInt32LE(24, 4);
    header.writeUInt32LE(0, 8);
    header.writeUInt32LE(types.length, 12);
    header.writeUInt32LE(types.length, 16);
    header.writeUInt32LE(strings.length, 20);
    return Buffer.concat([header, types, strings]);
  }
}
