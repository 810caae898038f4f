import { readFileSync } from 'node:fs';

/**
 * A reader of BTF, the kernel's description of its own types (/sys/kernel/btf/vmlinux, present
 * where the kernel was built with CONFIG_DEBUG_INFO_BTF). corral's eBPF programs read kernel
 * structures through plain probe reads, so they need each field's offset on the running kernel:
 * struct layouts change between versions and configurations, and BTF is what they are read from.
 *
 * Format (include/uapi/linux/btf.h): a header, then a type section (records of 12 bytes plus a
 * kind-specific tail, numbered from 1) and a string section. Only what corral asks is decoded.
 */

const MAGIC = 0xeb9f;

/** BTF kinds (BTF_KIND_*). */
export const BtfKind = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** Bytes that follow the 12-byte record of a type of this kind with `vlen` entries. */
function tailSize(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return 4;
    case BtfKind.ARRAY:
      return 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      return 12 * vlen;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      return 8 * vlen;
    default:
      return 0;
  }
}

/** The kinds `find` can look up by name. */
const INDEXED: ReadonlySet<number> = new Set([
  BtfKind.STRUCT,
  BtfKind.UNION,
  BtfKind.ENUM,
  BtfKind.ENUM64,
  BtfKind.TYPEDEF,
]);

/** The error of a kernel whose BTF lacks something corral needs, or of unreadable BTF. */
export class BtfError extends Error {}

export interface BtfMember {
  readonly name: string;
  /** Offset in bits from the start of the enclosing struct (of the outermost one, when nested). */
  readonly bitOffset: number;
  readonly type: number;
}

export class Btf {
  private readonly view: DataView;
  private readonly typesStart: number;
  private readonly stringsStart: number;
  private readonly stringsEnd: number;
  /** Byte offset of each type's record, by id (id 0 is `void`). */
  private readonly offsets: number[] = [0];
  /** Types `find` can look up, by a hash of their name (see nameHash). */
  private readonly byNameHash = new Map<number, number[]>();
  private readonly words: Uint32Array | undefined;

  constructor(private readonly data: Buffer) {
    if (data.length < 24 || data.readUInt16LE(0) !== MAGIC)
      throw new BtfError('not BTF data (bad magic): a big-endian kernel or a damaged file');
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const hdrLen = data.readUInt32LE(4);
    const typeOff = data.readUInt32LE(8);
    const typeLen = data.readUInt32LE(12);
    const strOff = data.readUInt32LE(16);
    const strLen = data.readUInt32LE(20);
    this.typesStart = hdrLen + typeOff;
    this.stringsStart = hdrLen + strOff;
    this.stringsEnd = this.stringsStart + strLen;
    const typesEnd = this.typesStart + typeLen;
    if (typesEnd > data.length || this.stringsEnd > data.length)
      throw new BtfError('BTF sections run past the end of the data');
    // Records are 4-byte aligned: read them as words where the buffer allows it (faster).
    if (data.byteOffset % 4 === 0)
      this.words = new Uint32Array(data.buffer, data.byteOffset, Math.floor(data.byteLength / 4));
    const word = this.words && this.typesStart % 4 === 0 ? this.words : undefined;
    // One pass, without making a string of any name: decoding 100 000 of them would cost more
    // than everything else here.
    for (let at = this.typesStart; at < typesEnd;) {
      const id = this.offsets.push(at) - 1;
      const nameOff = word ? (word[at >>> 2] as number) : this.u32(at);
      const info = word ? (word[(at >>> 2) + 1] as number) : this.u32(at + 4);
      const kind = (info >>> 24) & 0x1f;
      if (nameOff !== 0 && (kind === BtfKind.STRUCT || kind === BtfKind.UNION || INDEXED.has(kind))) {
        const h = this.nameHash(this.stringsStart + nameOff);
        const list = this.byNameHash.get(h);
        if (list) list.push(id);
        else this.byNameHash.set(h, [id]);
      }
      at += 12 + tailSize(kind, info & 0xffff);
    }
  }

  /** FNV-1a of the NUL-terminated bytes at `at`. */
  private nameHash(at: number): number {
    let h = 0x811c9dc5;
    for (let i = at; i < this.stringsEnd; i++) {
      const c = this.data[i] as number;
      if (c === 0) break;
      h = Math.imul(h ^ c, 0x01000193);
    }
    return h >>> 0;
  }

  /** The running kernel's BTF. */
  static kernel(path = '/sys/kernel/btf/vmlinux'): Btf {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (err) {
      throw new BtfError(
        `the kernel publishes no BTF at ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}): it was built without CONFIG_DEBUG_INFO_BTF`,
      );
    }
    return new Btf(data);
  }

  get count(): number {
    return this.offsets.length - 1;
  }

  kind(id: number): number {
    return id === 0 ? 0 : (this.u32(this.at(id) + 4) >>> 24) & 0x1f;
  }

  name(id: number): string {
    return id === 0 ? '' : this.string(this.u32(this.at(id)));
  }

  /** `size` for ints, structs, unions and enums; the referenced type for pointers, typedefs, ... */
  sizeOrType(id: number): number {
    return this.u32(this.at(id) + 8);
  }

  /** Ids of the structs, unions, enums and typedefs called `name`, of one of `kinds` if given. */
  find(name: string, ...kinds: number[]): number[] {
    let h = 0x811c9dc5;
    for (const c of Buffer.from(name, 'latin1')) h = Math.imul(h ^ c, 0x01000193);
    return (this.byNameHash.get(h >>> 0) ?? []).filter(
      (id) => this.name(id) === name && (kinds.length === 0 || kinds.includes(this.kind(id))),
    );
  }

  /** The struct or union called `name`; throws when the kernel has none (or only a declaration). */
  struct(name: string): number {
    const ids = this.find(name, BtfKind.STRUCT, BtfKind.UNION).filter((id) => this.vlen(id) > 0);
    const id = ids[0];
    if (id === undefined) throw new BtfError(`the kernel's BTF has no struct ${name}`);
    return id;
  }

  /** The type behind typedefs and qualifiers (const, volatile, restrict, type tags). */
  resolve(id: number): number {
    for (let i = 0; i < 32; i++) {
      const k = this.kind(id);
      if (
        k !== BtfKind.TYPEDEF &&
        k !== BtfKind.VOLATILE &&
        k !== BtfKind.CONST &&
        k !== BtfKind.RESTRICT &&
        k !== BtfKind.TYPE_TAG
      )
        return id;
      id = this.sizeOrType(id);
    }
    throw new BtfError(`type ${id} is a chain of more than 32 typedefs and qualifiers`);
  }

  /** Size in bytes of a type (pointers: 8, corral's eBPF runs on 64-bit kernels only). */
  sizeOf(id: number): number {
    const r = this.resolve(id);
    switch (this.kind(r)) {
      case BtfKind.INT:
      case BtfKind.STRUCT:
      case BtfKind.UNION:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.FLOAT:
        return this.sizeOrType(r);
      case BtfKind.PTR:
        return 8;
      case BtfKind.ARRAY: {
        const a = this.array(r);
        return a.length * this.sizeOf(a.element);
      }
      default:
        throw new BtfError(`type ${this.name(r) || r} has no size`);
    }
  }

  /** Element type and length of an array type. */
  array(id: number): { element: number; length: number } {
    const r = this.resolve(id);
    if (this.kind(r) !== BtfKind.ARRAY) throw new BtfError(`type ${r} is not an array`);
    const at = this.at(r) + 12;
    return { element: this.u32(at), length: this.u32(at + 8) };
  }

  /** The members of a struct or union, as declared (anonymous ones have an empty name). */
  members(id: number): BtfMember[] {
    const r = this.resolve(id);
    const k = this.kind(r);
    if (k !== BtfKind.STRUCT && k !== BtfKind.UNION) throw new BtfError(`type ${r} is not a struct`);
    const bitfields = (this.u32(this.at(r) + 4) & 0x80000000) !== 0;
    const out: BtfMember[] = [];
    for (let i = 0, at = this.at(r) + 12; i < this.vlen(r); i++, at += 12) {
      const raw = this.u32(at + 8);
      out.push({
        name: this.string(this.u32(at)),
        type: this.u32(at + 4),
        // With kind_flag set, the top 8 bits hold a bitfield's width.
        bitOffset: bitfields ? raw & 0xffffff : raw,
      });
    }
    return out;
  }

  /**
   * A member of a struct by name, looking inside anonymous structs and unions the way C does
   * (`mm_struct.arg_start` sits in one on recent kernels). The offset is from the outer struct.
   */
  member(structId: number, name: string): BtfMember | undefined {
    for (const m of this.members(structId)) {
      if (m.name === name) return m;
      if (m.name === '') {
        const k = this.kind(this.resolve(m.type));
        if (k !== BtfKind.STRUCT && k !== BtfKind.UNION) continue;
        const inner = this.member(m.type, name);
        if (inner) return { ...inner, bitOffset: m.bitOffset + inner.bitOffset };
      }
    }
    return undefined;
  }

  /** Value of an enumerator, e.g. `enumValue('cgroup_subsys_id', 'pids_cgrp_id')`. */
  enumValue(enumName: string, enumerator: string): number | undefined {
    return this.enumerators(enumName).find(([n]) => n === enumerator)?.[1];
  }

  /** The enumerators of the enum called `enumName`, with their values, as declared. */
  enumerators(enumName: string): [string, number][] {
    const out: [string, number][] = [];
    for (const id of this.find(enumName, BtfKind.ENUM)) {
      for (let i = 0, at = this.at(id) + 12; i < this.vlen(id); i++, at += 8)
        out.push([this.string(this.u32(at)), this.view.getInt32(at + 4, true)]);
    }
    return out;
  }

  /** Parameter types of a function prototype (the target of a FUNC, or a FUNC_PROTO itself). */
  params(id: number): number[] {
    let r = this.resolve(id);
    if (this.kind(r) === BtfKind.PTR) r = this.resolve(this.sizeOrType(r));
    if (this.kind(r) === BtfKind.FUNC) r = this.sizeOrType(r);
    if (this.kind(r) !== BtfKind.FUNC_PROTO) throw new BtfError(`type ${id} is not a function`);
    const out: number[] = [];
    for (let i = 0, at = this.at(r) + 12; i < this.vlen(r); i++, at += 8) out.push(this.u32(at + 4));
    return out;
  }

  /** `struct task_struct *` → `task_struct`; undefined for anything but a pointer to a struct. */
  pointee(id: number): string | undefined {
    const r = this.resolve(id);
    if (this.kind(r) !== BtfKind.PTR) return undefined;
    const target = this.resolve(this.sizeOrType(r));
    const k = this.kind(target);
    return k === BtfKind.STRUCT || k === BtfKind.UNION ? this.name(target) : undefined;
  }

  private vlen(id: number): number {
    return this.u32(this.at(id) + 4) & 0xffff;
  }

  private at(id: number): number {
    const at = this.offsets[id];
    if (at === undefined || id === 0) throw new BtfError(`no BTF type ${id}`);
    return at;
  }

  private u32(at: number): number {
    return this.words && at % 4 === 0 ? (this.words[at >>> 2] as number) : this.view.getUint32(at, true);
  }

  private string(off: number): string {
    const start = this.stringsStart + off;
    if (start >= this.stringsEnd) throw new BtfError(`BTF string offset ${off} is out of range`);
    const end = this.data.indexOf(0, start);
    return this.data.toString('latin1', start, end < 0 || end > this.stringsEnd ? this.stringsEnd : end);
  }
}
