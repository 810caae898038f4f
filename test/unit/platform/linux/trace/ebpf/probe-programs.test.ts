import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { beforeEach, describe, it } from 'node:test';
import { BPF_CAPTURE_SCRIPT } from '../../../../../../src/platform/linux/trace/ebpf/capture-script.js';
import { probePrograms } from '../../../../../../src/platform/linux/trace/ebpf/probe-programs.js';
import {
  ARGV_CAP,
  CGROUPS_MAX,
  ConfigFlag,
  DEFAULT_HIERARCHY,
  FOLLOWED_MAX,
  MapIndex,
  SCRATCH_BYTES,
} from '../../../../../../src/platform/linux/trace/ebpf/record-format.js';
import { newMap, runProgram, type VmContext, type VmMap } from '../../../../../helpers/ebpf-vm.js';
import { FAKE_LAYOUT, FakeKernel, type FakePath } from '../../../../../helpers/fake-kernel.js';

const [forkProg, execProg, exitProg] = probePrograms(FAKE_LAYOUT).map((p) => p.insns) as [
  Buffer,
  Buffer,
  Buffer,
];
/** include/linux/sched/signal.h */
const SIGNAL_GROUP_EXIT = 4;

/** The capture's own reading of records (its replay mode), with fake /proc files. */
function lines(records: readonly Buffer[], extra: string[] = []): string[] {
  const r = spawnSync(
    'perl',
    ['-e', BPF_CAPTURE_SCRIPT, '--', 'replay', ...extra, ...records.map((b) => `rec:${b.toString('hex')}`)],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

const hex = (s: string) => Buffer.from(s).toString('hex');
/** The fields of an E line, decoded: [ts, pid, tgid, argv, exe, cwd, comm, pidns, cgroup, flag]. */
function execLine(line: string | undefined): (string | undefined)[] {
  const f = (line ?? '').split(' ');
  assert.equal(f[0], 'E', line);
  return f
    .slice(1)
    .map((v, i) => (i < 3 || v === '-' || v === '?' || v === 't' ? v : Buffer.from(v, 'hex').toString()));
}

describe('exec probe programs, run over fake kernel memory', () => {
  let k: FakeKernel;
  let maps: VmMap[];
  let ctx: VmContext;
  let root: FakePath;
  let usr: FakePath;
  let tmp: FakePath;
  const events = () => maps[MapIndex.events] as VmMap;
  const followed = (tgid: number) => {
    const at = (maps[MapIndex.followed] as VmMap).entries.get(
      Buffer.from(Uint32Array.of(tgid).buffer).toString('hex'),
    );
    return at === undefined ? undefined : Number(k.mem.load(at, 4));
  };
  const follow = (tgid: number, tag = 0) => {
    const at = k.mem.alloc(4);
    k.mem.u32(at, tag);
    (maps[MapIndex.followed] as VmMap).entries.set(
      Buffer.from(Uint32Array.of(tgid).buffer).toString('hex'),
      at,
    );
  };
  const setConfig = (flags: number) => {
    const at = k.mem.alloc(8);
    k.mem.u64(at, BigInt(flags));
    (maps[MapIndex.config] as VmMap).entries.set('0', at);
  };
  const cgroupTag = (id: bigint, hierarchy: number, tag: number) => {
    const key = Buffer.alloc(16);
    key.writeBigUInt64LE(id);
    key.writeUInt32LE(hierarchy, 8);
    const at = k.mem.alloc(4);
    k.mem.u32(at, tag);
    (maps[MapIndex.cgroups] as VmMap).entries.set(key.toString('hex'), at);
  };
  const stat = (i: number) => {
    const m = maps[MapIndex.stats] as VmMap;
    const at = m.entries.get(String(i));
    return at === undefined ? 0 : Number(k.mem.load(at, 8));
  };
  const exec = (task: { task: bigint; bprm: bigint }) =>
    runProgram(ctx, execProg, k.args(task.task, 0n, task.bprm));

  beforeEach(() => {
    k = new FakeKernel();
    maps = [];
    maps[MapIndex.events] = newMap('ringbuf', 0, 0, 0);
    maps[MapIndex.followed] = newMap('hash', 4, 4, FOLLOWED_MAX);
    maps[MapIndex.cgroups] = newMap('hash', 16, 4, CGROUPS_MAX);
    maps[MapIndex.config] = newMap('array', 4, 8, 1);
    maps[MapIndex.stats] = newMap('array', 4, 8, 2);
    maps[MapIndex.scratch] = newMap('array', 4, SCRATCH_BYTES, 1);
    ctx = { mem: k.mem, maps, current: (100n << 32n) | 100n };
    // A namespace's root mount, with /usr mounted from elsewhere and a tmpfs on /tmp.
    const rootDentry = k.dentry('/');
    root = { mnt: k.mount(rootDentry), dentry: rootDentry };
    const usrRoot = k.dentry('/');
    usr = { mnt: k.mount(usrRoot, { mnt: root.mnt, dentry: k.dentry('usr', rootDentry) }), dentry: usrRoot };
    const tmpRoot = k.dentry('/');
    tmp = { mnt: k.mount(tmpRoot, { mnt: root.mnt, dentry: k.dentry('tmp', rootDentry) }), dentry: tmpRoot };
  });

  it('records a followed exec with argv, and exe and cwd walked up across mount points as d_path does', () => {
    follow(42);
    const echo = { mnt: usr.mnt, dentry: k.dentries('bin/echo', usr.dentry) };
    const work = { mnt: tmp.mnt, dentry: k.dentries('work/dir', tmp.dentry) };
    const t = k.task({
      pid: 42,
      argv: ['/bin/echo', 'a b', 'ünï'],
      exe: echo,
      cwd: work,
      pidNs: 4026532999,
      comm: 'echo',
    });
    assert.equal(exec(t), 0n);
    assert.equal(events().records.length, 1);
    const [, pid, tgid, argv, exe, cwd, comm, pidNs, cgroup, flag] = execLine(lines(events().records)[0]);
    assert.deepEqual([pid, tgid], ['42', '42']);
    assert.equal(argv, '/bin/echo\0a b\0ünï\0');
    assert.equal(exe, '/usr/bin/echo');
    assert.equal(cwd, '/tmp/work/dir');
    assert.equal(comm, 'echo');
    assert.equal(pidNs, 'pid:[4026532999]');
    assert.equal(cgroup, '?');
    assert.equal(flag, undefined);
  });

  it('says / for the root of the namespace and for a mount that is all there is', () => {
    follow(7);
    exec(k.task({ pid: 7, argv: ['x'], exe: { mnt: usr.mnt, dentry: usr.dentry }, cwd: root }));
    const [, , , , exe, cwd] = execLine(lines(events().records)[0]);
    assert.equal(exe, '/usr');
    assert.equal(cwd, '/');
  });

  it('records nothing for a process it does not follow', () => {
    exec(k.task({ pid: 43, argv: ['/bin/true'], exe: root, cwd: root }));
    assert.equal(events().records.length, 0);
  });

  it('records every process while everything passes', () => {
    setConfig(ConfigFlag.recordAll);
    exec(k.task({ pid: 43, argv: ['/bin/true'], exe: root, cwd: root }));
    assert.equal(events().records.length, 1);
    assert.equal(followed(43), undefined, 'without following it from then on');
  });

  it('adopts a process exec’ing in a followed cgroup of the right hierarchy, and only that one', () => {
    setConfig(ConfigFlag.cgroups);
    // The memory hierarchy (subsystem 4) has the container's cgroup, kernfs id 77; the capture
    // tags cgroups from 1 in the order it is told of them.
    cgroupTag(77n, 4, 1);
    const inside = k.cssSet({ 4: k.cgroup(77n), 11: k.cgroup(5n) }, k.cgroup(1n));
    // The same id in another hierarchy is another cgroup.
    const elsewhere = k.cssSet({ 4: k.cgroup(9n), 11: k.cgroup(77n) }, k.cgroup(77n));
    exec(k.task({ pid: 50, argv: ['nsenter'], exe: root, cwd: root, cssSet: elsewhere }));
    assert.equal(events().records.length, 0);
    exec(k.task({ pid: 51, argv: ['nsenter'], exe: root, cwd: root, cssSet: inside }));
    assert.equal(events().records.length, 1);
    assert.equal(followed(51), 1, 'followed from now on, with the cgroup’s tag');
    const [, , , , , , , , cgroup] = execLine(lines(events().records, ['cmd:C box 4:77'])[0]);
    assert.equal(cgroup, '0::/box\n');
  });

  it('matches a v2 cgroup through dfl_cgrp', () => {
    setConfig(ConfigFlag.cgroups);
    cgroupTag(1234n, DEFAULT_HIERARCHY, 1);
    exec(k.task({ pid: 60, argv: ['x'], exe: root, cwd: root, cssSet: k.cssSet({}, k.cgroup(1234n)) }));
    assert.equal(followed(60), 1);
  });

  it('marks a deleted directory as /proc does, and gives up on a path too deep, saying so', () => {
    follow(70);
    const gone = k.dentry('gone', tmp.dentry, { deleted: true });
    const deep = k.dentries(Array.from({ length: 70 }, (_, i) => `d${i}`).join('/'), tmp.dentry);
    exec(
      k.task({
        pid: 70,
        argv: ['a'],
        exe: { mnt: tmp.mnt, dentry: deep },
        cwd: { mnt: tmp.mnt, dentry: gone },
      }),
    );
    const [, , , , exe, cwd] = execLine(lines(events().records)[0]);
    assert.equal(cwd, '/tmp/gone (deleted)');
    assert.equal(exe, '-', 'the walk stopped short and /proc had nothing that ends the same way');
    // While the process runs, /proc completes it.
    const full = `/tmp/${Array.from({ length: 70 }, (_, i) => `d${i}`).join('/')}`;
    const [, , , , late] = execLine(lines(events().records, [`file:/proc/70/exe=${hex(full)}`])[0]);
    assert.equal(late, full);
    const [, , , , wrong] = execLine(
      lines(events().records, [`file:/proc/70/exe=${hex('/usr/bin/other')}`])[0],
    );
    assert.equal(wrong, '-', 'a later program’s exe is not taken for this one');
  });

  it('stops at a dentry that is its own parent without being a mount’s root (unreachable)', () => {
    follow(71);
    const detached = k.dentry('/');
    const d = k.dentries('x/y', detached);
    exec(k.task({ pid: 71, argv: ['a'], exe: { mnt: tmp.mnt, dentry: d }, cwd: root }));
    assert.equal(execLine(lines(events().records)[0])[4], '/x/y');
  });

  it('copies the first ARGV_CAP bytes of a longer argv, and the capture completes it from /proc or says it is cut', () => {
    follow(80);
    const long = 'a'.repeat(ARGV_CAP + 100);
    exec(k.task({ pid: 80, argv: ['/bin/true', long], exe: root, cwd: root }));
    const rec = events().records[0] as Buffer;
    const cut = execLine(lines([rec])[0]);
    assert.equal(cut[9], 't');
    assert.equal(Buffer.byteLength(cut[3] as string), ARGV_CAP);
    const whole = `/bin/true\0${long}\0`;
    const done = execLine(lines([rec], [`file:/proc/80/cmdline=${hex(whole)}`])[0]);
    assert.equal(done[3], whole);
    assert.equal(done[9], undefined);
    const other = execLine(lines([rec], [`file:/proc/80/cmdline=${hex(`/bin/other\0${long}\0`)}`])[0]);
    assert.equal(other[9], 't', 'another program’s argv of the same length is not taken');
  });

  it('reports an argv it could not read as missing, with the kernel’s name for the process', () => {
    follow(81);
    exec(k.task({ pid: 81, argv: ['x'], argvUnmapped: true, exe: root, cwd: root, comm: 'true' }));
    const f = execLine(lines(events().records)[0]);
    assert.equal(f[3], '-');
    assert.equal(f[6], 'true');
  });

  it('follows what a followed process forks (not its threads), either way CLONE_PARENT goes', () => {
    follow(100, 5);
    const parent = k.task({ pid: 100 });
    const child = k.task({ pid: 101, parent: parent.task });
    runProgram(ctx, forkProg, k.args(parent.task, child.task));
    assert.equal(followed(101), 5, 'the child, with the tag it inherits');
    const thread = k.task({ pid: 102, tgid: 100, parent: parent.task });
    runProgram(ctx, forkProg, k.args(parent.task, thread.task));
    // CLONE_PARENT from an unfollowed process makes a child of a followed one.
    ctx = { ...ctx, current: (300n << 32n) | 300n };
    const sibling = k.task({ pid: 103, parent: parent.task });
    runProgram(ctx, forkProg, k.args(k.task({ pid: 300 }).task, sibling.task));
    assert.equal(followed(103), 5);
    // A followed process forking with CLONE_PARENT: the child's parent is not followed, the
    // forker is, and the record says who forked.
    follow(500, 2);
    ctx = { ...ctx, current: (500n << 32n) | 500n };
    const outsider = k.task({ pid: 499 });
    runProgram(
      ctx,
      forkProg,
      k.args(k.task({ pid: 500 }).task, k.task({ pid: 501, parent: outsider.task }).task),
    );
    assert.equal(followed(501), 2);
    // An unfollowed process forking: nothing.
    const stranger = k.task({ pid: 400 });
    ctx = { ...ctx, current: (400n << 32n) | 400n };
    runProgram(ctx, forkProg, k.args(stranger.task, k.task({ pid: 401, parent: stranger.task }).task));
    assert.equal(followed(401), undefined);
    assert.deepEqual(
      lines(events().records).map((l) => l.split(' ').slice(2).join(' ')),
      ['100 100 101 101 100', '100 100 103 103 300', '499 499 501 501 500'],
    );
  });

  it('reports a process’s exit once its last thread has gone, with the status wait() gives, and forgets it', () => {
    follow(110);
    const parent = k.task({ pid: 109 });
    const signal = k.signal({ flags: 0 });
    const leader = k.task({ pid: 110, parent: parent.task, exitCode: 0, signal });
    // The main thread calls pthread_exit: the process goes on.
    runProgram(ctx, exitProg, k.args(leader.task, 0n));
    assert.equal(followed(110), 0, 'still followed');
    assert.equal(events().records.length, 0);
    // Its last thread calls exit_group(7): that is the process's exit, reported for the group.
    k.mem.u32(signal + BigInt(FAKE_LAYOUT.signal.flags), SIGNAL_GROUP_EXIT);
    k.mem.u32(signal + BigInt(FAKE_LAYOUT.signal.groupExitCode), 7 << 8);
    const last = k.task({ pid: 111, tgid: 110, parent: parent.task, signal, leader: leader.task });
    runProgram(ctx, exitProg, k.args(last.task, 1n));
    assert.equal(followed(110), undefined);
    // Without exit_group the status is the main thread's own.
    follow(120);
    const alone = k.task({ pid: 120, parent: parent.task, exitCode: 3 << 8 });
    runProgram(ctx, exitProg, k.args(alone.task, 1n));
    assert.deepEqual(
      lines(events().records).map((l) => l.split(' ').slice(2).join(' ')),
      ['110 110 1792 109', '120 120 768 109'],
    );
  });

  it('tells a dead thread group by its count of live threads on kernels without group_dead', () => {
    const [, , oldExit] = probePrograms({ ...FAKE_LAYOUT, exitHasGroupDead: false }).map(
      (p) => p.insns,
    ) as Buffer[];
    follow(130);
    const signal = k.signal({ live: 1 });
    const t = k.task({ pid: 130, exitCode: 5 << 8, signal });
    runProgram(ctx, oldExit as Buffer, k.args(t.task));
    assert.equal(events().records.length, 0, 'another thread still runs');
    k.mem.u32(signal + BigInt(FAKE_LAYOUT.signal.live), 0);
    runProgram(ctx, oldExit as Buffer, k.args(t.task));
    assert.deepEqual(
      lines(events().records).map((l) => l.split(' ').slice(2).join(' ')),
      ['130 130 1280 130'],
    );
  });

  it('counts what it could not keep: a full ring, a full map of followed processes', () => {
    follow(120);
    events().full = true;
    exec(k.task({ pid: 120, argv: ['x'], exe: root, cwd: root }));
    assert.equal(stat(0), 1);
    events().full = false;
    const followedMap = maps[MapIndex.followed] as VmMap;
    maps[MapIndex.followed] = { ...followedMap, maxEntries: followedMap.entries.size };
    const parent = k.task({ pid: 120 });
    ctx = { ...ctx, current: (120n << 32n) | 120n };
    runProgram(ctx, forkProg, k.args(parent.task, k.task({ pid: 121, parent: parent.task }).task));
    assert.equal(stat(1), 1);
    assert.equal(events().records.length, 1, 'the fork is still reported');
  });
});
