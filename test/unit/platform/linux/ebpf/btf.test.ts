import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Btf, BtfError, BtfKind } from '../../../../../src/platform/linux/ebpf/btf.js';
import { BtfBuilder } from '../../../../helpers/btf-builder.js';

function sample() {
  const b = new BtfBuilder();
  const u32 = b.int('unsigned int', 4);
  const u64 = b.int('long unsigned int', 8);
  const char = b.int('char', 1);
  const task = b.struct('task_struct', 64);
  const taskPtr = b.ptr(task);
  const inner = b.struct('', 16, [
    ['arg_start', u64, 0],
    ['arg_end', u64, 8],
  ]);
  const union = b.struct('', 8, [['hash_len', u64, 0]], true);
  const mm = b.struct('mm_struct', 48, [
    ['users', u32, 0],
    ['', union, 8],
    ['', inner, 16],
  ]);
  const comm = b.array(char, 16, u32);
  b.setMembers(task, [
    ['pid', b.typedef('pid_t', b.const(u32)), 0],
    ['parent', taskPtr, 8],
    ['mm', b.ptr(mm), 16],
    ['comm', comm, 24],
    ['flags', u32, 40],
  ]);
  b.enum('cgroup_subsys_id', [
    ['cpu_cgrp_id', 1],
    ['memory_cgrp_id', 4],
  ]);
  b.tracepoint('sched_process_exec', [taskPtr, u32]);
  // A declaration without members must not be mistaken for the struct.
  b.struct('mm_struct', 0);
  return { btf: new Btf(b.build()), task, mm, comm, taskPtr };
}

describe('BTF reader', () => {
  it('finds structs by name and their members with offsets, through anonymous structs and unions', () => {
    const { btf, mm } = sample();
    assert.equal(btf.struct('mm_struct'), mm);
    assert.equal(btf.member(mm, 'arg_end')?.bitOffset, (16 + 8) * 8);
    assert.equal(btf.member(mm, 'hash_len')?.bitOffset, 8 * 8);
    assert.equal(btf.member(mm, 'nothing'), undefined);
  });

  it('resolves typedefs and qualifiers, sizes and arrays', () => {
    const { btf, task, comm } = sample();
    const pid = btf.member(task, 'pid');
    assert.equal(btf.kind(btf.resolve(pid?.type as number)), BtfKind.INT);
    assert.equal(btf.sizeOf(pid?.type as number), 4);
    assert.equal(btf.sizeOf(btf.member(task, 'parent')?.type as number), 8);
    assert.deepEqual(btf.array(comm).length, 16);
    assert.equal(btf.sizeOf(comm), 16);
    assert.equal(btf.sizeOf(task), 64);
  });

  it('reads enumerators and the arguments of a tracepoint', () => {
    const { btf, taskPtr } = sample();
    assert.equal(btf.enumValue('cgroup_subsys_id', 'memory_cgrp_id'), 4);
    assert.equal(btf.enumValue('cgroup_subsys_id', 'pids_cgrp_id'), undefined);
    const tp = btf.find('btf_trace_sched_process_exec', BtfKind.TYPEDEF)[0] as number;
    const params = btf.params(tp);
    assert.equal(params.length, 3);
    assert.equal(params[1], taskPtr);
    assert.equal(btf.pointee(params[1] as number), 'task_struct');
    assert.equal(btf.pointee(params[2] as number), undefined, 'not a pointer');
  });

  it('tells a missing struct, a bad file and a kernel without BTF apart, naming what is missing', () => {
    const { btf } = sample();
    assert.throws(() => btf.struct('linux_binprm'), /has no struct linux_binprm/);
    assert.throws(() => new Btf(Buffer.from('not btf at all, no magic here')), BtfError);
    const truncated = new BtfBuilder().build();
    truncated.writeUInt32LE(1 << 20, 12); // a type section longer than the file
    assert.throws(() => new Btf(truncated), /run past the end/);
    assert.throws(() => Btf.kernel('/nonexistent/vmlinux'), /CONFIG_DEBUG_INFO_BTF/);
  });

  it('reads bitfield members’ offsets without their width', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const s = b.struct('flags', 8);
    b.setMembers(
      s,
      [
        ['a', u32, 0],
        ['b', u32, 4],
      ],
      { member: 'b', bits: 3 },
    );
    const btf = new Btf(b.build());
    assert.equal(btf.member(btf.struct('flags'), 'b')?.bitOffset, 32);
  });
});
