import type { KernelLayout } from '../../src/platform/linux/trace/ebpf/kernel-layout.js';
import { Memory } from './ebpf-vm.js';

/** Offsets as a Linux 6.18 x86_64 kernel has them (read from its BTF), for fake kernel memory. */
export const FAKE_LAYOUT: KernelLayout = {
  task: {
    pid: 1264,
    tgid: 1268,
    realParent: 1280,
    mm: 1136,
    fs: 1816,
    comm: 1752,
    threadPid: 1368,
    cgroups: 2376,
    exitCode: 1164,
    signal: 1848,
    groupLeader: 1328,
  },
  signal: { live: 4, flags: 116, groupExitCode: 96 },
  exitHasGroupDead: true,
  mm: { argStart: 488, argEnd: 496 },
  fsPwd: 40,
  path: { mnt: 0, dentry: 8 },
  binprmFile: 64,
  fileFPath: 64,
  dentry: { parent: 24, name: 40, hashPprev: 16 },
  vfsmountRoot: 0,
  mount: { mnt: 32, parent: 16, mountpoint: 24 },
  pid: { level: 4, numbers: 144 },
  upid: { size: 16, ns: 8 },
  pidNsInum: 136,
  cssSet: { subsys: 0, subsysCount: 12, dflCgrp: 112 },
  cssCgroup: 0,
  cgroupKn: 256,
  kernfsId: 96,
};

export interface FakePath {
  /** The vfsmount (inside its struct mount). */
  readonly mnt: bigint;
  readonly dentry: bigint;
}

export interface FakeTaskOptions {
  readonly pid: number;
  readonly tgid?: number;
  readonly parent?: bigint;
  /** The argument area, NUL-separated as the kernel lays it out. */
  readonly argv?: readonly string[];
  /** An argument area that is not in memory (reading it faults). */
  readonly argvUnmapped?: boolean;
  readonly exe?: FakePath;
  readonly cwd?: FakePath;
  readonly pidNs?: number;
  readonly comm?: string;
  readonly cssSet?: bigint;
  readonly exitCode?: number;
  /** Its thread group's signal_struct (see FakeKernel.signal); a group of one otherwise. */
  readonly signal?: bigint;
  /** Its thread group's leader; itself otherwise. */
  readonly leader?: bigint;
}

/** Kernel structures laid out as FAKE_LAYOUT says, in an ebpf-vm Memory. */
export class FakeKernel {
  readonly mem = new Memory();
  constructor(readonly l: KernelLayout = FAKE_LAYOUT) {}

  /** A dentry called `name` under `parent` (none: a root, its own parent). */
  dentry(name: string, parent?: bigint, opts: { deleted?: boolean } = {}): bigint {
    const at = this.mem.alloc(256);
    this.mem.u64(at + BigInt(this.l.dentry.parent), parent ?? at);
    this.mem.u64(at + BigInt(this.l.dentry.name), this.mem.string(name));
    // Hashed dentries have a pprev; d_delete unhashes one.
    this.mem.u64(at + BigInt(this.l.dentry.hashPprev), opts.deleted ? 0n : 0xabcd_0000n);
    return at;
  }

  /** A directory chain under `parent`: dentries for `a/b/c`, returning the last. */
  dentries(pathText: string, parent: bigint): bigint {
    let d = parent;
    for (const part of pathText.split('/').filter(Boolean)) d = this.dentry(part, d);
    return d;
  }

  /**
   * A mount whose root is `root`; with `on`, mounted at that dentry of that mount, else the root
   * of its namespace (its own parent). Returns its vfsmount.
   */
  mount(root: bigint, on?: FakePath): bigint {
    const m = this.mem.alloc(512);
    const vfs = m + BigInt(this.l.mount.mnt);
    this.mem.u64(vfs + BigInt(this.l.vfsmountRoot), root);
    this.mem.u64(m + BigInt(this.l.mount.parent), on ? on.mnt - BigInt(this.l.mount.mnt) : m);
    this.mem.u64(m + BigInt(this.l.mount.mountpoint), on ? on.dentry : root);
    return vfs;
  }

  /** A cgroup whose kernfs node has this id. */
  cgroup(id: bigint): bigint {
    const kn = this.mem.alloc(256);
    this.mem.u64(kn + BigInt(this.l.kernfsId), id);
    const cg = this.mem.alloc(512);
    this.mem.u64(cg + BigInt(this.l.cgroupKn), kn);
    return cg;
  }

  /** A css_set: the cgroup of each v1 subsystem id given, and the v2 one. */
  cssSet(v1: Readonly<Record<number, bigint>>, dfl: bigint): bigint {
    const set = this.mem.alloc(512);
    for (const [ssid, cg] of Object.entries(v1)) {
      const css = this.mem.alloc(64);
      this.mem.u64(css + BigInt(this.l.cssCgroup), cg);
      this.mem.u64(set + BigInt(this.l.cssSet.subsys + 8 * Number(ssid)), css);
    }
    this.mem.u64(set + BigInt(this.l.cssSet.dflCgrp), dfl);
    return set;
  }

  /** A thread group's signal_struct: threads alive, SIGNAL_* flags, the group's exit code. */
  signal(o: { live?: number; flags?: number; groupExitCode?: number } = {}): bigint {
    const at = this.mem.alloc(256);
    this.mem.u32(at + BigInt(this.l.signal.live), o.live ?? 0);
    this.mem.u32(at + BigInt(this.l.signal.flags), o.flags ?? 0);
    this.mem.u32(at + BigInt(this.l.signal.groupExitCode), o.groupExitCode ?? 0);
    return at;
  }

  /** A task after exec, and the linux_binprm of that exec. */
  task(o: FakeTaskOptions): { task: bigint; bprm: bigint } {
    const l = this.l;
    const task = this.mem.alloc(4096);
    this.mem.u32(task + BigInt(l.task.pid), o.pid);
    this.mem.u32(task + BigInt(l.task.tgid), o.tgid ?? o.pid);
    this.mem.u64(task + BigInt(l.task.realParent), o.parent ?? task);
    this.mem.u32(task + BigInt(l.task.exitCode), o.exitCode ?? 0);
    this.mem.u64(task + BigInt(l.task.signal), o.signal ?? this.signal());
    this.mem.u64(task + BigInt(l.task.groupLeader), o.leader ?? task);
    this.mem.write(task + BigInt(l.task.comm), Buffer.from((o.comm ?? 'prog').padEnd(16, '\0').slice(0, 16)));
    if (o.cssSet) this.mem.u64(task + BigInt(l.task.cgroups), o.cssSet);
    // thread_pid -> numbers[level].ns -> ns.inum
    const ns = this.mem.alloc(256);
    this.mem.u32(ns + BigInt(l.pidNsInum), o.pidNs ?? 4026531836);
    const pid = this.mem.alloc(256);
    this.mem.u32(pid + BigInt(l.pid.level), 1);
    this.mem.u64(pid + BigInt(l.pid.numbers + l.upid.size * 1 + l.upid.ns), ns);
    this.mem.u64(task + BigInt(l.task.threadPid), pid);
    if (o.argv) {
      const area = Buffer.from(o.argv.map((a) => `${a}\0`).join(''));
      const at = o.argvUnmapped ? 0x10n : this.mem.alloc(area.length);
      if (!o.argvUnmapped) this.mem.write(at, area);
      const mm = this.mem.alloc(1024);
      this.mem.u64(mm + BigInt(l.mm.argStart), at);
      this.mem.u64(mm + BigInt(l.mm.argEnd), at + BigInt(area.length));
      this.mem.u64(task + BigInt(l.task.mm), mm);
    }
    if (o.cwd) {
      const fs = this.mem.alloc(128);
      this.mem.u64(fs + BigInt(l.fsPwd + l.path.mnt), o.cwd.mnt);
      this.mem.u64(fs + BigInt(l.fsPwd + l.path.dentry), o.cwd.dentry);
      this.mem.u64(task + BigInt(l.task.fs), fs);
    }
    const bprm = this.mem.alloc(256);
    if (o.exe) {
      const file = this.mem.alloc(256);
      this.mem.u64(file + BigInt(l.fileFPath + l.path.mnt), o.exe.mnt);
      this.mem.u64(file + BigInt(l.fileFPath + l.path.dentry), o.exe.dentry);
      this.mem.u64(bprm + BigInt(l.binprmFile), file);
    }
    return { task, bprm };
  }

  /** A raw tracepoint's context: its arguments as u64s. */
  args(...values: bigint[]): bigint {
    const at = this.mem.alloc(8 * values.length);
    values.forEach((v, i) => this.mem.u64(at + BigInt(8 * i), v));
    return at;
  }
}
