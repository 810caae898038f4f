import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Assembler } from '../../../../../src/platform/linux/ebpf/assembler.js';
import { encode, FP, Helper, R0, R1, R2, R6, Size } from '../../../../../src/platform/linux/ebpf/insn.js';

const bytes = (a: Assembler) => encode(a.assemble()).toString('hex').match(/.{16}/g);

describe('eBPF assembler', () => {
  it('encodes instructions as the kernel reads them (opcode, dst | src << 4, offset, imm)', () => {
    const a = new Assembler()
      .movImm(R0, 0)
      .mov(R6, R1)
      .aluImm('add', R2, -8)
      .load(Size.DW, R1, R6, 16)
      .store(Size.W, FP, -4, R0)
      .storeImm(Size.B, FP, -1, 7)
      .atomicAdd(R0, 0, R1)
      .call(Helper.ringbufOutput)
      .exit();
    assert.deepEqual(bytes(a), [
      'b700000000000000', // r0 = 0
      'bf16000000000000', // r6 = r1
      '07020000f8ffffff', // r2 += -8
      '7961100000000000', // r1 = *(u64 *)(r6 + 16)
      '630afcff00000000', // *(u32 *)(r10 - 4) = r0
      '720affff07000000', // *(u8 *)(r10 - 1) = 7
      'db10000000000000', // lock *(u64 *)(r0 + 0) += r1
      '8500000082000000', // call bpf_ringbuf_output
      '9500000000000000', // exit
    ]);
  });

  it('loads a map by index in two slots, for the loader to put its descriptor in', () => {
    assert.deepEqual(bytes(new Assembler().ldMap(R1, 3)), ['1811000003000000', '0000000000000000']);
  });

  it('resolves jumps forward and backward, counting from the next instruction', () => {
    const a = new Assembler();
    a.label('top').jumpImm('eq', R1, 0, 'end').ldMap(R2, 0).jumpReg('sgt', R1, R2, 'top').goto('end');
    a.label('end').exit();
    const insns = a.assemble();
    assert.equal(insns[0]?.off, 4, 'over the ld_imm64 pair, the jump back and the goto');
    assert.equal(insns[3]?.off, -4, 'back to the first instruction');
    assert.equal(insns[4]?.off, 0, 'to the very next one');
  });

  it('refuses undefined and duplicate labels, and values that do not fit', () => {
    assert.throws(() => new Assembler().goto('nowhere').assemble(), /undefined label: nowhere/);
    assert.throws(() => new Assembler().label('x').label('x').assemble(), /defined twice: x/);
    assert.throws(() => new Assembler().load(Size.W, R0, R1, 1 << 16), /offset out of range/);
    assert.throws(() => new Assembler().movImm(R0, 2 ** 33), /immediate out of range/);
  });
});
