import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Btf } from '../../../../../../src/platform/linux/ebpf/btf.js';
import { kernelLayout } from '../../../../../../src/platform/linux/trace/ebpf/kernel-layout.js';
import { BtfBuilder } from '../../../../../helpers/btf-builder.js';
import { FAKE_LAYOUT as L } from '../../../../../helpers/fake-kernel.js';

interface Variant {
  /** `struct.member` to leave out. */
  readonly omit?: string;
  /** The exec tracepoint's third argument points at this struct instead. */
  readonly execArg?: string;
  /** task_struct.tgid is this many bytes. */
  readonly tgidSize?: number;
  /** sched_process_exit without its group_dead argument (before Linux 6.16). */
  readonly oldExit?: boolean;
}

/** BTF of a kernel laid out as FAKE_LAYOUT, the way the real one is (anonymous parts and all). */
function kernel(v: Variant = {}): Btf {
  const b = new BtfBuilder();
  const u32 = b.int('unsigned int', 4);
  const u64 = b.int('long unsigned int', 8);
  const u16 = b.int('short unsigned int', 2);
  const char = b.int('char', 1);
  const names = [
    'task_struct',
    'mm_struct',
    'fs_struct',
    'path',
    'linux_binprm',
    'file',
    'dentry',
    'qstr',
    'hlist_bl_node',
    'vfsmount',
    'mount',
    'pid',
    'upid',
    'pid_namespace',
    'ns_common',
    'css_set',
    'cgroup_subsys_state',
    'cgroup',
    'kernfs_node',
    'signal_struct',
    'other',
  ];
  const s = Object.fromEntries(names.map((n) => [n, b.struct(n, 4096)])) as Record<string, number>;
  s.upid = b.struct('upid', L.upid.size);
  const p = (n: string) => b.ptr(s[n] as number);
  const def = (n: string, members: [string, number, number][]) =>
    b.setMembers(
      s[n] as number,
      members.filter(([m]) => v.omit !== `${n}.${m}`),
    );
  const pid = b.typedef('pid_t', b.int('int', 4));
  def('task_struct', [
    ['mm', p('mm_struct'), L.task.mm],
    ['exit_code', b.int('int', 4), L.task.exitCode],
    ['pid', pid, L.task.pid],
    ['tgid', v.tgidSize ? b.int('long', v.tgidSize) : pid, L.task.tgid],
    ['real_parent', p('task_struct'), L.task.realParent],
    ['thread_pid', p('pid'), L.task.threadPid],
    ['comm', b.array(char, 16, u32), L.task.comm],
    ['fs', p('fs_struct'), L.task.fs],
    ['cgroups', p('css_set'), L.task.cgroups],
    ['signal', p('signal_struct'), L.task.signal],
    ['group_leader', p('task_struct'), L.task.groupLeader],
  ]);
  const atomic = b.struct('', 4, [['counter', b.int('int', 4), 0]]);
  def('signal_struct', [
    ['live', b.typedef('atomic_t', atomic), L.signal.live],
    ['group_exit_code', b.int('int', 4), L.signal.groupExitCode],
    ['flags', u32, L.signal.flags],
  ]);
  // Recent kernels keep arg_start in an anonymous struct inside mm_struct.
  const anon = b.struct('', 64, [
    ['arg_start', u64, L.mm.argStart - 480],
    ['arg_end', u64, L.mm.argEnd - 480],
  ]);
  def('mm_struct', [['', anon, 480]]);
  def('path', [
    ['mnt', p('vfsmount'), L.path.mnt],
    ['dentry', p('dentry'), L.path.dentry],
  ]);
  def('fs_struct', [
    ['users', u32, 0],
    ['pwd', s.path as number, L.fsPwd],
  ]);
  def('linux_binprm', [['file', p('file'), L.binprmFile]]);
  def('file', [['f_path', s.path as number, L.fileFPath]]);
  def('hlist_bl_node', [
    ['next', p('hlist_bl_node'), 0],
    ['pprev', b.ptr(p('hlist_bl_node')), 8],
  ]);
  const hashLen = b.struct('', 8, [
    ['hash', u32, 0],
    ['len', u32, 4],
  ]);
  const union = b.struct(
    '',
    8,
    [
      ['', hashLen, 0],
      ['hash_len', u64, 0],
    ],
    true,
  );
  def('qstr', [
    ['', union, 0],
    ['name', b.ptr(b.const(char)), 8],
  ]);
  def('dentry', [
    ['d_hash', s.hlist_bl_node as number, L.dentry.hashPprev - 8],
    ['d_parent', p('dentry'), L.dentry.parent],
    ['d_name', s.qstr as number, L.dentry.name - 8],
  ]);
  def('vfsmount', [['mnt_root', p('dentry'), L.vfsmountRoot]]);
  def('mount', [
    ['mnt_parent', p('mount'), L.mount.parent],
    ['mnt_mountpoint', p('dentry'), L.mount.mountpoint],
    ['mnt', s.vfsmount as number, L.mount.mnt],
  ]);
  b.setMembers(s.upid as number, [
    ['nr', b.int('int', 4), 0],
    ['ns', p('pid_namespace'), L.upid.ns],
  ]);
  (b as unknown as { types: { sizeOrType: number }[] }).types[(s.upid as number) - 1]!.sizeOrType =
    L.upid.size;
  def('pid', [
    ['level', u32, L.pid.level],
    ['numbers', b.array(s.upid as number, 1, u32), L.pid.numbers],
  ]);
  def('ns_common', [['inum', u32, 24]]);
  def('pid_namespace', [['ns', s.ns_common as number, L.pidNsInum - 24]]);
  def('css_set', [
    ['subsys', b.array(p('cgroup_subsys_state'), L.cssSet.subsysCount, u32), L.cssSet.subsys],
    ['dfl_cgrp', p('cgroup'), L.cssSet.dflCgrp],
  ]);
  def('cgroup_subsys_state', [['cgroup', p('cgroup'), L.cssCgroup]]);
  def('cgroup', [['kn', p('kernfs_node'), L.cgroupKn]]);
  def('kernfs_node', [
    ['flags', u16, 0],
    ['id', u64, L.kernfsId],
  ]);
  b.tracepoint('sched_process_fork', [p('task_struct'), p('task_struct')]);
  b.tracepoint('sched_process_exec', [p('task_struct'), pid, p(v.execArg ?? 'linux_binprm')]);
  b.tracepoint('sched_process_exit', v.oldExit ? [p('task_struct')] : [p('task_struct'), b.int('_Bool', 1)]);
  return new Btf(b.build());
}

describe('kernel layout from BTF', () => {
  it('finds every field the exec probe reads, at its offset', () => {
    assert.deepEqual(kernelLayout(kernel()), L);
  });

  it('notices whether the exit tracepoint says the thread group is dead', () => {
    assert.equal(kernelLayout(kernel({ oldExit: true })).exitHasGroupDead, false);
  });

  it('refuses a kernel that lacks a field, naming it', () => {
    assert.throws(
      () => kernelLayout(kernel({ omit: 'dentry.d_parent' })),
      /struct dentry has no member d_parent/,
    );
    assert.throws(
      () => kernelLayout(kernel({ omit: 'fs_struct.pwd' })),
      /struct fs_struct has no member pwd/,
    );
  });

  it('refuses a field of another size, and a tracepoint with other arguments', () => {
    assert.throws(() => kernelLayout(kernel({ tgidSize: 8 })), /task_struct\.tgid is 8 bytes, not 4/);
    assert.throws(
      () => kernelLayout(kernel({ execArg: 'other' })),
      /tracepoint sched_process_exec: argument 3 is other, not a struct linux_binprm pointer/,
    );
  });
});
