import { Assembler } from '../../ebpf/assembler.js';
import { encode, FP, Helper, R0, R1, R2, R3, R4, R6, R7, R8, R9, Size, type Reg } from '../../ebpf/insn.js';
import type { KernelLayout } from './kernel-layout.js';
import {
  ARGV_CAP,
  ConfigFlag,
  DEFAULT_HIERARCHY,
  Exec,
  ExecFlag,
  Kind,
  MapIndex,
  NAME_BYTES,
  PATH_BYTES,
  PATH_DEPTH,
  Stat,
} from './record-format.js';

/** BPF_RB_NO_WAKEUP: the capture reads the ring on its own timer, so no record wakes anyone. */
const NO_WAKEUP = 1;

export interface ProbeProgram {
  /** The raw tracepoint it attaches to. */
  readonly tracepoint: string;
  /** Program name the kernel shows (bpftool prog). */
  readonly name: string;
  readonly insns: Buffer;
}

/**
 * Helpers over the assembler for the one thing these programs do most: read kernel memory
 * through bpf_probe_read_kernel (it zeroes the destination when the read faults, so a failed
 * read looks like a NULL pointer or a zero, which every caller checks for).
 */
class Probe extends Assembler {
  /** dst = *(u64 *)(base + off) of kernel memory, through the stack slot at `slot`. */
  read64(dst: Reg, base: Reg, off: number, slot: number): this {
    this.mov(R3, base).aluImm('add', R3, off);
    this.mov(R1, FP).aluImm('add', R1, slot).movImm(R2, 8).call(Helper.probeReadKernel);
    return this.load(Size.DW, dst, FP, slot);
  }

  /** dst = *(u32 *)(base + off) of kernel memory, through the stack slot at `slot`. */
  read32(dst: Reg, base: Reg, off: number, slot: number): this {
    this.mov(R3, base).aluImm('add', R3, off);
    this.mov(R1, FP).aluImm('add', R1, slot).movImm(R2, 4).call(Helper.probeReadKernel);
    return this.load(Size.W, dst, FP, slot);
  }

  /** Copies `size` bytes of kernel memory at base + off to `to` + toOff (stack or map value). */
  copy(to: Reg, toOff: number, size: number, base: Reg, off: number): this {
    this.mov(R3, base).aluImm('add', R3, off);
    this.mov(R1, to).aluImm('add', R1, toOff).movImm(R2, size);
    return this.call(Helper.probeReadKernel);
  }

  /** r0 = lookup(map, key at FP + keySlot). */
  lookup(map: number, keySlot: number): this {
    this.ldMap(R1, map).mov(R2, FP).aluImm('add', R2, keySlot);
    return this.call(Helper.mapLookupElem);
  }

  /** stats[which] += 1 (clobbers r0-r5). */
  count(which: number, keySlot: number): this {
    const done = this.newLabel('counted');
    this.storeImm(Size.W, FP, keySlot, which).lookup(MapIndex.stats, keySlot);
    this.jumpImm('eq', R0, 0, done).movImm(R1, 1).atomicAdd(R0, 0, R1);
    return this.label(done);
  }

  /** r0 = config[0] flags (0 when the map cannot be read). */
  configFlags(keySlot: number): this {
    const done = this.newLabel('config');
    this.storeImm(Size.W, FP, keySlot, 0).lookup(MapIndex.config, keySlot);
    this.jumpImm('eq', R0, 0, done).load(Size.DW, R0, R0, 0);
    return this.label(done);
  }

  /** Sends the record at `data`, of the length in register `size`, to the ring; counts one that found no room. */
  output(data: Reg, size: Reg, statSlot: number): this {
    const done = this.newLabel('sent');
    this.ldMap(R1, MapIndex.events).mov(R2, data).mov(R3, size);
    this.movImm(R4, NO_WAKEUP).call(Helper.ringbufOutput);
    this.jumpImm('eq', R0, 0, done).count(Stat.ringFull, statSlot);
    return this.label(done);
  }

  /** *(u32 *)(r8 + Exec flags) |= bit. */
  flag(bit: number): this {
    this.load(Size.W, R1, R8, 4).aluImm('or', R1, bit);
    return this.store(Size.W, R8, 4, R1);
  }
}

// Stack slots (offsets from the frame pointer; the stack is 512 bytes).
const TMP = -8;
const TMP2 = -16;
const DENTRY = -24;
const VFSMNT = -32;
const KEY = -40; // a u32 map key (a tgid, an index)
const CG_KEY = -64; // 16 bytes: kernfs id u64, hierarchy u32, pad u32
const VALUE = -68; // a u32 map value
const STEPS = -80;
const CSS_SET = -88;
const BPRM = -96;
const EXE_BYTES = -104;
const RECORD = -128; // 32 bytes: fork and exit records are built here

function prologueTask(p: Probe, ctxIndex: number, into: Reg): void {
  p.load(Size.DW, into, R1, ctxIndex * 8);
}

/**
 * sched_process_fork(parent, child): a new process (not a thread) of a followed one is followed
 * from this moment, before it can run, so its first exec is never missed.
 */
function forkProgram(l: KernelLayout): Buffer {
  const p = new Probe();
  const out = p.newLabel('out');
  const inherit = p.newLabel('inherit');
  const emit = p.newLabel('emit');
  prologueTask(p, 1, R7); // child
  p.read32(R8, R7, l.task.pid, TMP).read32(R9, R7, l.task.tgid, TMP2);
  p.jumpReg('ne', R8, R9, out); // a thread
  p.store(Size.W, FP, RECORD + 24, R8).store(Size.W, FP, RECORD + 28, R9);
  p.read64(R6, R7, l.task.realParent, TMP);
  p.read32(R1, R6, l.task.pid, TMP).store(Size.W, FP, RECORD + 16, R1);
  p.read32(R1, R6, l.task.tgid, TMP).store(Size.W, FP, RECORD + 20, R1);
  // Followed if the forking process is (the usual case) or the new one's parent is (CLONE_PARENT
  // makes the forker's parent the child's). The forker goes in the record too, for corral to
  // place a child whose parent it does not follow.
  p.call(Helper.getCurrentPidTgid).aluImm('rsh', R0, 32).store(Size.W, FP, KEY, R0);
  p.store(Size.W, FP, RECORD + 4, R0);
  p.lookup(MapIndex.followed, KEY).jumpImm('ne', R0, 0, inherit);
  p.lookup(MapIndex.followed, RECORD + 20).jumpImm('ne', R0, 0, inherit);
  p.configFlags(KEY).aluImm('and', R0, ConfigFlag.recordAll).jumpImm('ne', R0, 0, emit).goto(out);
  p.label(inherit);
  p.load(Size.W, R1, R0, 0).store(Size.W, FP, VALUE, R1);
  p.ldMap(R1, MapIndex.followed)
    .mov(R2, FP)
    .aluImm('add', R2, RECORD + 28);
  p.mov(R3, FP).aluImm('add', R3, VALUE).movImm(R4, 0).call(Helper.mapUpdateElem);
  const added = p.newLabel('added');
  p.jumpImm('eq', R0, 0, added).count(Stat.followFull, KEY).label(added);
  p.label(emit);
  p.storeImm(Size.W, FP, RECORD, Kind.fork);
  p.call(Helper.ktimeGetNs).store(Size.DW, FP, RECORD + 8, R0);
  p.mov(R6, FP).aluImm('add', R6, RECORD).movImm(R7, 32).output(R6, R7, KEY);
  p.label(out).movImm(R0, 0).exit();
  return encode(p.assemble());
}

/** include/linux/sched/signal.h: the thread group is exiting as a whole (exit_group, a fatal signal). */
const SIGNAL_GROUP_EXIT = 0x4;

/**
 * sched_process_exit(task[, group_dead]): a thread ended. The process has ended only when its
 * last thread has: a main thread that calls pthread_exit leaves the process running, and one
 * exec'ing from another thread kills the old main thread on the way. Then the exit is reported
 * for the thread group, with the status wait() gives: the group's exit code after exit_group or
 * a fatal signal, else the main thread's. A followed process is forgotten with it.
 */
function exitProgram(l: KernelLayout): Buffer {
  const p = new Probe();
  const out = p.newLabel('out');
  const emit = p.newLabel('emit');
  const followed = p.newLabel('followed');
  const leaderCode = p.newLabel('leader');
  const coded = p.newLabel('coded');
  if (l.exitHasGroupDead) {
    p.load(Size.DW, R2, R1, 8).aluImm('and', R2, 0xff).jumpImm('eq', R2, 0, out);
    prologueTask(p, 0, R6);
  } else {
    prologueTask(p, 0, R6);
    p.read64(R7, R6, l.task.signal, TMP).read32(R1, R7, l.signal.live, TMP).jumpImm('ne', R1, 0, out);
  }
  p.read32(R9, R6, l.task.tgid, TMP);
  p.store(Size.W, FP, RECORD + 16, R9)
    .store(Size.W, FP, RECORD + 20, R9)
    .store(Size.W, FP, KEY, R9);
  p.lookup(MapIndex.followed, KEY).jumpImm('ne', R0, 0, followed);
  p.configFlags(KEY).aluImm('and', R0, ConfigFlag.recordAll).jumpImm('ne', R0, 0, emit).goto(out);
  p.label(followed);
  p.ldMap(R1, MapIndex.followed).mov(R2, FP).aluImm('add', R2, KEY).call(Helper.mapDeleteElem);
  p.label(emit);
  p.read64(R7, R6, l.task.signal, TMP).read32(R1, R7, l.signal.flags, TMP);
  p.aluImm('and', R1, SIGNAL_GROUP_EXIT).jumpImm('eq', R1, 0, leaderCode);
  p.read32(R1, R7, l.signal.groupExitCode, TMP).goto(coded);
  p.label(leaderCode);
  p.read64(R7, R6, l.task.groupLeader, TMP).read32(R1, R7, l.task.exitCode, TMP);
  p.label(coded).store(Size.W, FP, RECORD + 24, R1);
  // Threads share the process's parent.
  p.read64(R7, R6, l.task.realParent, TMP)
    .read32(R1, R7, l.task.tgid, TMP)
    .store(Size.W, FP, RECORD + 28, R1);
  p.storeImm(Size.W, FP, RECORD, Kind.exit).storeImm(Size.W, FP, RECORD + 4, 0);
  p.call(Helper.ktimeGetNs).store(Size.DW, FP, RECORD + 8, R0);
  p.mov(R6, FP).aluImm('add', R6, RECORD).movImm(R7, 32).output(R6, R7, KEY);
  p.label(out).movImm(R0, 0).exit();
  return encode(p.assemble());
}

/**
 * Whether the exec'ing task (r6) is in a followed cgroup: each hierarchy's cgroup of its
 * css_set (v1: one per subsystem; v2: dfl_cgrp) is looked up by (kernfs id, hierarchy). On a
 * match the tag is at VALUE and control goes to `matched`.
 */
function cgroupMatch(p: Probe, l: KernelLayout, matched: string, miss: string): void {
  p.read64(R1, R6, l.task.cgroups, TMP).store(Size.DW, FP, CSS_SET, R1);
  const tryCgroup = (hierarchy: number, cgroupAt: (next: string) => void) => {
    const next = p.newLabel('nextcg');
    cgroupAt(next); // leaves the struct cgroup pointer in r9
    p.read64(R9, R9, l.cgroupKn, TMP).jumpImm('eq', R9, 0, next);
    p.read64(R1, R9, l.kernfsId, TMP).store(Size.DW, FP, CG_KEY, R1);
    p.storeImm(Size.W, FP, CG_KEY + 8, hierarchy).storeImm(Size.W, FP, CG_KEY + 12, 0);
    p.lookup(MapIndex.cgroups, CG_KEY).jumpImm('eq', R0, 0, next);
    p.load(Size.W, R1, R0, 0).store(Size.W, FP, VALUE, R1).goto(matched);
    p.label(next);
  };
  for (let i = 0; i < l.cssSet.subsysCount; i++) {
    tryCgroup(i, (next) => {
      p.load(Size.DW, R9, FP, CSS_SET).read64(R9, R9, l.cssSet.subsys + 8 * i, TMP);
      p.jumpImm('eq', R9, 0, next).read64(R9, R9, l.cssCgroup, TMP).jumpImm('eq', R9, 0, next);
    });
  }
  tryCgroup(DEFAULT_HIERARCHY, (next) => {
    p.load(Size.DW, R9, FP, CSS_SET).read64(R9, R9, l.cssSet.dflCgrp, TMP).jumpImm('eq', R9, 0, next);
  });
  p.goto(miss);
}

/**
 * Appends the path of (DENTRY, VFSMNT) to the record at r8 + header + r7, the way d_path builds
 * it for /proc/PID/exe and /proc/PID/cwd: up the dentries to the mount's root, across to the
 * mount point in the parent mount, until a mount that is its own parent (the root of the
 * process's mount namespace, where readlink from the host stops too). Components go leaf first;
 * r7 grows by what was written.
 */
function pathWalk(p: Probe, l: KernelLayout, cut: number, deleted: number): void {
  const loop = p.newLabel('walk');
  const notRoot = p.newLabel('dentry');
  const done = p.newLabel('walked');
  const truncated = p.newLabel('cut');
  const linked = p.newLabel('linked');
  // An unhashed dentry that is not a root was deleted: readlink shows `<path> (deleted)`.
  p.load(Size.DW, R9, FP, DENTRY);
  p.read64(R1, R9, l.dentry.hashPprev, TMP).jumpImm('ne', R1, 0, linked);
  p.read64(R1, R9, l.dentry.parent, TMP).jumpReg('eq', R1, R9, linked).flag(deleted);
  p.label(linked);
  p.storeImm(Size.DW, FP, STEPS, 0);
  p.label(loop);
  // r7 goes through memory the verifier does not follow: every path then reaches the loop with
  // the same bounds on it (checked below), whatever it wrote so far, and the verifier prunes
  // instead of walking each count of components and mount crossings apart.
  p.store(Size.W, R8, Exec.cursor, R7).load(Size.W, R7, R8, Exec.cursor);
  p.load(Size.DW, R1, FP, STEPS).jumpImm('ge', R1, PATH_DEPTH, truncated);
  p.aluImm('add', R1, 1).store(Size.DW, FP, STEPS, R1);
  p.load(Size.DW, R9, FP, VFSMNT).read64(R1, R9, l.vfsmountRoot, TMP);
  p.load(Size.DW, R2, FP, DENTRY).jumpReg('ne', R1, R2, notRoot);
  // At the root of a mount: continue from its mount point in the parent mount.
  p.load(Size.DW, R9, FP, VFSMNT).aluImm('sub', R9, l.mount.mnt); // struct mount *
  p.read64(R1, R9, l.mount.parent, TMP).jumpReg('eq', R1, R9, done).jumpImm('eq', R1, 0, truncated);
  p.aluImm('add', R1, l.mount.mnt).store(Size.DW, FP, TMP2, R1);
  p.read64(R1, R9, l.mount.mountpoint, TMP).store(Size.DW, FP, DENTRY, R1);
  p.load(Size.DW, R1, FP, TMP2).store(Size.DW, FP, VFSMNT, R1).goto(loop);
  p.label(notRoot);
  p.load(Size.DW, R9, FP, DENTRY).read64(R1, R9, l.dentry.parent, TMP);
  // Its own parent without being a mount's root: unreachable from here; d_path stops too.
  p.jumpReg('eq', R1, R9, done).jumpImm('eq', R1, 0, truncated).store(Size.DW, FP, TMP2, R1);
  p.read64(R3, R9, l.dentry.name, TMP);
  p.jumpImm('gt', R7, PATH_BYTES - NAME_BYTES, truncated);
  p.mov(R1, R8).aluImm('add', R1, Exec.header).alu('add', R1, R7).movImm(R2, NAME_BYTES);
  p.call(Helper.probeReadKernelStr).jumpImm('sle', R0, 0, truncated);
  p.alu('add', R7, R0);
  p.load(Size.DW, R1, FP, TMP2).store(Size.DW, FP, DENTRY, R1).goto(loop);
  p.label(truncated).flag(cut);
  p.label(done);
}

/**
 * sched_process_exec(task, old_pid, bprm): for a followed process (or one exec'ing in a
 * followed cgroup, which is followed from then on), one record with argv, exe, cwd, the pid
 * namespace and the kernel's name for it, all copied here and now: the process may be gone a
 * millisecond later, and nothing has to wake up for it.
 */
function execProgram(l: KernelLayout): Buffer {
  const p = new Probe();
  const out = p.newLabel('out');
  const followed = p.newLabel('followed');
  const matched = p.newLabel('matched');
  const record = p.newLabel('record');
  const untagged = p.newLabel('untagged');
  prologueTask(p, 0, R6);
  p.load(Size.DW, R1, R1, 16).store(Size.DW, FP, BPRM, R1);
  p.read32(R1, R6, l.task.tgid, TMP).store(Size.W, FP, KEY, R1);
  p.lookup(MapIndex.followed, KEY).jumpImm('ne', R0, 0, followed);
  p.configFlags(TMP2).mov(R7, R0);
  p.mov(R1, R7).aluImm('and', R1, ConfigFlag.recordAll).jumpImm('ne', R1, 0, untagged);
  p.mov(R1, R7).aluImm('and', R1, ConfigFlag.cgroups).jumpImm('eq', R1, 0, out);
  cgroupMatch(p, l, matched, out);
  p.label(matched);
  // A joiner (corral exec): followed from now on, its cgroup's tag inherited by what it forks.
  p.ldMap(R1, MapIndex.followed).mov(R2, FP).aluImm('add', R2, KEY);
  p.mov(R3, FP).aluImm('add', R3, VALUE).movImm(R4, 0).call(Helper.mapUpdateElem);
  const added = p.newLabel('added');
  p.jumpImm('eq', R0, 0, added).count(Stat.followFull, TMP2).label(added);
  p.load(Size.W, R7, FP, VALUE).goto(record);
  p.label(followed).load(Size.W, R7, R0, 0).goto(record);
  p.label(untagged).movImm(R7, 0);
  p.label(record);
  // This CPU's scratch record; tracepoints run with preemption off, so nothing else writes it.
  p.call(Helper.getSmpProcessorId).store(Size.W, FP, TMP2, R0);
  p.lookup(MapIndex.scratch, TMP2).jumpImm('eq', R0, 0, out).mov(R8, R0);
  p.storeImm(Size.W, R8, 0, Kind.exec).storeImm(Size.W, R8, 4, 0);
  p.store(Size.W, R8, Exec.cgroupTag, R7);
  p.call(Helper.ktimeGetNs).store(Size.DW, R8, 8, R0);
  p.copy(R8, Exec.pid, 4, R6, l.task.pid).copy(R8, Exec.tgid, 4, R6, l.task.tgid);
  p.copy(R8, Exec.comm, 16, R6, l.task.comm);
  // The pid namespace the process is in: thread_pid->numbers[level].ns->ns.inum.
  p.read64(R9, R6, l.task.threadPid, TMP).read32(R1, R9, l.pid.level, TMP2);
  p.aluImm('and', R1, 63).aluImm('mul', R1, l.upid.size).alu('add', R9, R1);
  p.read64(R9, R9, l.pid.numbers + l.upid.ns, TMP).copy(R8, Exec.pidNs, 4, R9, l.pidNsInum);
  // The executable: bprm->file->f_path.
  p.movImm(R7, 0);
  p.load(Size.DW, R9, FP, BPRM).read64(R9, R9, l.binprmFile, TMP);
  p.read64(R1, R9, l.fileFPath + l.path.mnt, TMP).store(Size.DW, FP, VFSMNT, R1);
  p.read64(R1, R9, l.fileFPath + l.path.dentry, TMP).store(Size.DW, FP, DENTRY, R1);
  pathWalk(p, l, ExecFlag.exeCut, ExecFlag.exeDeleted);
  p.store(Size.H, R8, Exec.exeBytes, R7).store(Size.DW, FP, EXE_BYTES, R7);
  // The working directory: task->fs->pwd.
  p.read64(R9, R6, l.task.fs, TMP);
  p.read64(R1, R9, l.fsPwd + l.path.mnt, TMP).store(Size.DW, FP, VFSMNT, R1);
  p.read64(R1, R9, l.fsPwd + l.path.dentry, TMP).store(Size.DW, FP, DENTRY, R1);
  pathWalk(p, l, ExecFlag.cwdCut, ExecFlag.cwdDeleted);
  p.load(Size.DW, R1, FP, EXE_BYTES).mov(R2, R7).alu('sub', R2, R1).store(Size.H, R8, Exec.cwdBytes, R2);
  // argv: the new program's argument area, mm->arg_start .. arg_end, as /proc/PID/cmdline.
  const send = p.newLabel('send');
  const fits = p.newLabel('fits');
  const copied = p.newLabel('copied');
  p.read64(R9, R6, l.task.mm, TMP).jumpImm('ne', R9, 0, fits);
  p.flag(ExecFlag.noMm).movImm(R9, 0).goto(send);
  p.label(fits);
  p.read64(R1, R9, l.mm.argEnd, TMP2).read64(R1, R9, l.mm.argStart, TMP); // start stays at TMP
  p.load(Size.DW, R9, FP, TMP2).alu('sub', R9, R1).store(Size.DW, R8, Exec.argvLen, R9);
  const within = p.newLabel('within');
  p.jumpImm('le', R9, ARGV_CAP, within).flag(ExecFlag.argvCut).movImm(R9, ARGV_CAP);
  p.label(within).jumpImm('eq', R9, 0, send);
  // Bounds the verifier can see (the walks keep r7 <= PATH_BYTES).
  p.jumpImm('gt', R7, PATH_BYTES, out);
  p.mov(R1, R8).aluImm('add', R1, Exec.header).alu('add', R1, R7).mov(R2, R9);
  p.load(Size.DW, R3, FP, TMP).call(Helper.probeReadUser).jumpImm('eq', R0, 0, copied);
  p.flag(ExecFlag.argvFault).movImm(R9, 0);
  p.label(copied);
  p.label(send).store(Size.W, R8, Exec.argvCopied, R9);
  p.jumpImm('gt', R7, PATH_BYTES, out).jumpImm('gt', R9, ARGV_CAP, out);
  p.mov(R6, R7).alu('add', R6, R9).aluImm('add', R6, Exec.header);
  p.output(R8, R6, TMP2);
  p.label(out).movImm(R0, 0).exit();
  return encode(p.assemble());
}

/** The three programs, generated for the running kernel's layout. */
export function probePrograms(layout: KernelLayout): ProbeProgram[] {
  return [
    { tracepoint: 'sched_process_fork', name: 'corral_fork', insns: forkProgram(layout) },
    { tracepoint: 'sched_process_exec', name: 'corral_exec', insns: execProgram(layout) },
    { tracepoint: 'sched_process_exit', name: 'corral_exit', insns: exitProgram(layout) },
  ];
}
