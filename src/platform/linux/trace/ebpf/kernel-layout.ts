import { BtfError, BtfKind, type Btf } from '../../ebpf/btf.js';

/**
 * Where the exec probe finds what it reads in the running kernel's structures, in bytes, from
 * its BTF. Every field is looked up by name, so a kernel that renamed or dropped one is refused
 * with the field named, instead of being read at a wrong offset.
 */
export interface KernelLayout {
  readonly task: {
    readonly pid: number;
    readonly tgid: number;
    readonly realParent: number;
    readonly mm: number;
    readonly fs: number;
    readonly comm: number;
    readonly threadPid: number;
    readonly cgroups: number;
    readonly exitCode: number;
    readonly signal: number;
    readonly groupLeader: number;
  };
  /** signal_struct: threads still alive, SIGNAL_* flags, the code of a group exit. */
  readonly signal: { readonly live: number; readonly flags: number; readonly groupExitCode: number };
  /**
   * Whether sched_process_exit says if the whole thread group is dead (its second argument,
   * Linux 6.16+); before, the probe reads signal_struct.live, which do_exit has already counted
   * down when the tracepoint fires.
   */
  readonly exitHasGroupDead: boolean;
  readonly mm: { readonly argStart: number; readonly argEnd: number };
  /** fs_struct.pwd: a struct path. */
  readonly fsPwd: number;
  readonly path: { readonly mnt: number; readonly dentry: number };
  readonly binprmFile: number;
  readonly fileFPath: number;
  readonly dentry: {
    readonly parent: number;
    /** d_name.name: the component's NUL-terminated name. */
    readonly name: number;
    /** d_hash.pprev: NULL once the dentry is unhashed (deleted). */
    readonly hashPprev: number;
  };
  readonly vfsmountRoot: number;
  /** struct mount embeds its vfsmount at `mnt`; the others are pointers. */
  readonly mount: { readonly mnt: number; readonly parent: number; readonly mountpoint: number };
  readonly pid: { readonly level: number; readonly numbers: number };
  /** struct upid: its size (the stride of pid.numbers[]) and where its namespace pointer is. */
  readonly upid: { readonly size: number; readonly ns: number };
  /** pid_namespace.ns.inum: the number /proc/PID/ns/pid shows. */
  readonly pidNsInum: number;
  readonly cssSet: { readonly subsys: number; readonly subsysCount: number; readonly dflCgrp: number };
  readonly cssCgroup: number;
  readonly cgroupKn: number;
  /** kernfs_node.id: on 64-bit kernels the inode number of the cgroup's directory. */
  readonly kernfsId: number;
}

/** Byte offset of a dotted member path (`d_name.name`) in struct `name`, checking its size. */
function field(btf: Btf, name: string, path: string, size?: number): number {
  let type = btf.struct(name);
  let bits = 0;
  let last = 0;
  for (const part of path.split('.')) {
    const m = btf.member(type, part);
    if (!m) throw new BtfError(`the kernel's struct ${name} has no member ${path}`);
    bits += m.bitOffset;
    type = m.type;
    last = m.type;
  }
  if (bits % 8 !== 0) throw new BtfError(`${name}.${path} is a bitfield`);
  if (size !== undefined && btf.sizeOf(last) !== size)
    throw new BtfError(`${name}.${path} is ${btf.sizeOf(last)} bytes, not ${size}`);
  return bits / 8;
}

/**
 * The tracepoint's arguments as the raw tracepoint hands them over (BTF's
 * `btf_trace_<name>` typedef has `void *` first, then the arguments).
 */
function checkTracepoint(btf: Btf, name: string, expected: (string | undefined)[]): void {
  const id = btf.find(`btf_trace_${name}`, BtfKind.TYPEDEF)[0];
  if (id === undefined) throw new BtfError(`the kernel has no tracepoint ${name}`);
  const params = btf.params(id).slice(1);
  expected.forEach((want, i) => {
    const p = params[i];
    const got = p === undefined ? 'nothing' : (btf.pointee(p) ?? btf.name(btf.resolve(p)));
    if (want !== undefined && got !== want)
      throw new BtfError(`tracepoint ${name}: argument ${i + 1} is ${got}, not a struct ${want} pointer`);
  });
}

/** Whether the exit tracepoint's second argument is `bool group_dead`. */
function exitGroupDead(btf: Btf): boolean {
  const id = btf.find('btf_trace_sched_process_exit', BtfKind.TYPEDEF)[0];
  const second = id === undefined ? undefined : btf.params(id)[2];
  return second !== undefined && btf.name(btf.resolve(second)) === '_Bool';
}

export function kernelLayout(btf: Btf): KernelLayout {
  checkTracepoint(btf, 'sched_process_fork', ['task_struct', 'task_struct']);
  checkTracepoint(btf, 'sched_process_exec', ['task_struct', undefined, 'linux_binprm']);
  checkTracepoint(btf, 'sched_process_exit', ['task_struct']);
  const subsys = btf.member(btf.struct('css_set'), 'subsys');
  if (!subsys) throw new BtfError("the kernel's struct css_set has no member subsys");
  return {
    task: {
      pid: field(btf, 'task_struct', 'pid', 4),
      tgid: field(btf, 'task_struct', 'tgid', 4),
      realParent: field(btf, 'task_struct', 'real_parent', 8),
      mm: field(btf, 'task_struct', 'mm', 8),
      fs: field(btf, 'task_struct', 'fs', 8),
      comm: field(btf, 'task_struct', 'comm', 16),
      threadPid: field(btf, 'task_struct', 'thread_pid', 8),
      cgroups: field(btf, 'task_struct', 'cgroups', 8),
      exitCode: field(btf, 'task_struct', 'exit_code', 4),
      signal: field(btf, 'task_struct', 'signal', 8),
      groupLeader: field(btf, 'task_struct', 'group_leader', 8),
    },
    signal: {
      live: field(btf, 'signal_struct', 'live', 4),
      flags: field(btf, 'signal_struct', 'flags', 4),
      groupExitCode: field(btf, 'signal_struct', 'group_exit_code', 4),
    },
    exitHasGroupDead: exitGroupDead(btf),
    mm: { argStart: field(btf, 'mm_struct', 'arg_start', 8), argEnd: field(btf, 'mm_struct', 'arg_end', 8) },
    fsPwd: field(btf, 'fs_struct', 'pwd'),
    path: { mnt: field(btf, 'path', 'mnt', 8), dentry: field(btf, 'path', 'dentry', 8) },
    binprmFile: field(btf, 'linux_binprm', 'file', 8),
    fileFPath: field(btf, 'file', 'f_path'),
    dentry: {
      parent: field(btf, 'dentry', 'd_parent', 8),
      name: field(btf, 'dentry', 'd_name.name', 8),
      hashPprev: field(btf, 'dentry', 'd_hash.pprev', 8),
    },
    vfsmountRoot: field(btf, 'vfsmount', 'mnt_root', 8),
    mount: {
      mnt: field(btf, 'mount', 'mnt'),
      parent: field(btf, 'mount', 'mnt_parent', 8),
      mountpoint: field(btf, 'mount', 'mnt_mountpoint', 8),
    },
    pid: { level: field(btf, 'pid', 'level', 4), numbers: field(btf, 'pid', 'numbers') },
    upid: { size: btf.sizeOf(btf.struct('upid')), ns: field(btf, 'upid', 'ns', 8) },
    pidNsInum: field(btf, 'pid_namespace', 'ns.inum', 4),
    cssSet: {
      subsys: field(btf, 'css_set', 'subsys'),
      subsysCount: btf.array(subsys.type).length,
      dflCgrp: field(btf, 'css_set', 'dfl_cgrp', 8),
    },
    cssCgroup: field(btf, 'cgroup_subsys_state', 'cgroup', 8),
    cgroupKn: field(btf, 'cgroup', 'kn', 8),
    kernfsId: field(btf, 'kernfs_node', 'id', 8),
  };
}
