import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProcEvent } from '../../../../../src/platform/linux/trace/proc-event.js';
import { SandboxFilter, type Routed } from '../../../../../src/platform/linux/trace/sandbox-filter.js';
import { FakeProc } from '../../../../helpers/fake-proc.js';

const ts = 1n;
const fork = (parent: number, child: number, childTgid = child): Extract<ProcEvent, { kind: 'fork' }> => ({
  kind: 'fork',
  timestampNs: ts,
  parentPid: parent,
  parentTgid: parent,
  childPid: child,
  childTgid,
});
const exec = (pid: number): ProcEvent => ({ kind: 'exec', timestampNs: ts, pid, tgid: pid });
const exit = (pid: number, status: number, tgid = pid): ProcEvent => ({
  kind: 'exit',
  timestampNs: ts,
  pid,
  tgid,
  exitCode: status,
  parentTgid: null,
});

function setup() {
  const proc = new FakeProc()
    .set(10, { ppid: 1, argv: ['bwrap', '--args'], cgroup: 'run-a', pidns: 'box' })
    .set(500, { ppid: 1, argv: ['host-daemon'] });
  const filter = new SandboxFilter(proc);
  filter.add({ id: 1, label: 'box', initPid: 10, cgroupName: 'run-a' });
  const feed = (...evs: ProcEvent[]) =>
    evs.map((e) => filter.handle(e)).filter((r): r is Routed => r !== undefined);
  return { proc, filter, feed };
}

describe('sandbox filter', () => {
  it('follows the tree from the init through forks and reports execs with their argv', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['sh', '-c', 'echo "a b"'], cwd: '/work' });
    const out = feed(fork(10, 11), exec(11));
    assert.deepEqual(
      out.map((r) => r.event.type),
      ['fork', 'exec'],
    );
    const e = out[1]?.event;
    assert.ok(e?.type === 'exec');
    assert.deepEqual(
      [e.command, e.args, e.cwd, e.ppid, e.sandbox, e.argv],
      ['sh', ['-c', 'echo "a b"'], '/work', 10, 'box', 'full'],
    );
    assert.ok(out.every((r) => r.id === 1));
  });

  it('never reports a process outside the sandbox, and does not read /proc for it', () => {
    const { proc, feed } = setup();
    proc.set(501, { ppid: 500, argv: ['curl', 'x'] });
    const reads = proc.reads;
    assert.deepEqual(feed(fork(500, 501), exec(501), exit(501, 0), exec(500)), []);
    assert.equal(proc.reads, reads);
  });

  it('ends a process with its last thread when its main thread went first (pthread_exit)', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['worker'] });
    feed(fork(10, 11), exec(11), fork(10, 12, 11), fork(10, 13, 11)); // threads name 11's parent
    assert.deepEqual(feed(exit(11, 0), exit(12, 0, 11)), [], 'one thread still runs');
    const [end] = feed(exit(13, 7 << 8, 11));
    assert.ok(end?.event.type === 'exit');
    assert.deepEqual([end.event.pid, end.event.exitCode], [11, 7]);
  });

  it('keeps a process whose other thread exec’d: the kernel ended its main thread on the way', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['go-program'] });
    feed(fork(10, 11), exec(11), fork(10, 12, 11));
    // de_thread: the main thread's exit, then the exec (as the main thread's pid).
    assert.deepEqual(feed(exit(11, 9)), []);
    proc.set(11, { ppid: 10, argv: ['/bin/true', 'next'] });
    const [e] = feed(exec(11));
    assert.ok(e?.event.type === 'exec');
    assert.deepEqual(e.event.args, ['next']);
    const [end] = feed(exit(11, 0));
    assert.ok(end?.event.type === 'exit' && end.event.exitCode === 0);
  });

  it('places a child forked with CLONE_PARENT by its forker when its parent is outside', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['sh'] });
    feed(fork(10, 11), exec(11));
    // The forker (11) gives its child its own parent: 10's parent, the host.
    const cloned: ProcEvent = { ...fork(1, 20), forkerTgid: 11 };
    const [f] = feed(cloned);
    assert.ok(f?.event.type === 'fork');
    assert.deepEqual([f.event.pid, f.event.ppid], [20, 1], 'its parent, as the kernel says');
    proc.set(20, { ppid: 1, argv: ['/bin/true'] });
    assert.equal(feed(exec(20))[0]?.event.type, 'exec');
    assert.deepEqual(feed({ ...fork(1, 21), forkerTgid: 500 }), [], 'a host process’s is not');
  });

  it('ignores threads: their clone is not a process and their exit is not the process ending', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['python3'] });
    feed(fork(10, 11), exec(11));
    assert.deepEqual(feed(fork(10, 12, 11), exit(12, 0, 11)), []);
    const [end] = feed(exit(11, 0));
    assert.equal(end?.event.type, 'exit');
  });

  it('decodes exit statuses: code, signal and core dump', () => {
    const { proc, feed } = setup();
    for (const pid of [11, 12, 13]) proc.set(pid, { ppid: 10, argv: ['x'] });
    feed(fork(10, 11), fork(10, 12), fork(10, 13));
    const events = feed(exit(11, 3 << 8), exit(12, 9), exit(13, 0x80 | 11)).map((r) => r.event);
    assert.deepEqual(
      events.map((e) => e.type === 'exit' && [e.exitCode, e.signal, e.coreDumped, e.status]),
      [
        [3, null, false, 768],
        [null, 'SIGKILL', false, 9],
        [null, 'SIGSEGV', true, 139],
      ],
    );
  });

  it('names the program in its exit event, from its last exec', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['make', 'all'] });
    feed(fork(10, 11), exec(11));
    const [e] = feed(exit(11, 0));
    assert.equal(e?.event.type === 'exit' && e.event.command, 'make');
  });

  it('reports an exec whose process is already gone as not captured, never with invented args', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: null, comm: 'true' });
    const [, e] = feed(fork(10, 11), exec(11));
    assert.ok(e?.event.type === 'exec');
    assert.deepEqual([e.event.command, e.event.args, e.event.argv], ['true', null, 'none']);
  });

  it('forgets an exited pid, so the host reusing it is not traced', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['x'] });
    feed(fork(10, 11), exit(11, 0));
    proc.set(11, { ppid: 500, argv: ['host-thing'] });
    assert.deepEqual(feed(exec(11)), []);
  });

  it('after lost events, confirms members through the cgroup and adopts processes whose fork was missed', () => {
    const { proc, filter, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['x'], cgroup: 'run-a' });
    feed(fork(10, 11));
    const lost = filter.lost('overflow');
    assert.deepEqual(
      lost.map((r) => [r.id, r.event.type]),
      [[1, 'lost']],
    );
    // pid 11's exit was missed and the host reused the pid
    proc.set(11, { ppid: 500, argv: ['host'], cgroup: 'system' });
    assert.deepEqual(feed(exec(11)), []);
    // pid 12's fork was missed, but it is in the sandbox's cgroup
    proc.set(12, { ppid: 10, argv: ['ls'], cgroup: 'run-a', pidns: 'box' });
    const [e] = feed(exec(12));
    assert.equal(e?.event.type === 'exec' && e.event.command, 'ls');
  });

  it('adopts a process that joins the cgroup from outside (corral exec) only for a target that asks, then follows its tree', () => {
    const { proc, filter, feed } = setup();
    // corral's exec wrapper: forked by corral (pid 900), moves itself into the cgroup, execs nsenter
    proc.set(901, { ppid: 900, argv: ['nsenter', '-t', '10'], cgroup: 'run-a' });
    assert.deepEqual(feed(fork(900, 901), exec(901)), [], 'the plain target ignores joiners');
    filter.remove(1);
    filter.add({ id: 3, label: 'box', initPid: 10, cgroupName: 'run-a', joiners: true });
    proc.set(902, { ppid: 900, argv: ['nsenter', '-t', '10'], cgroup: 'run-a' });
    proc.set(903, { ppid: 902, argv: ['make', 'all'], cgroup: 'run-a', pidns: 'box' });
    proc.set(501, { ppid: 500, argv: ['curl', 'x'], cgroup: 'system' });
    const out = feed(
      fork(900, 902),
      exec(902),
      fork(902, 903),
      exec(903),
      exit(903, 0),
      exit(902, 0),
      exec(501),
    );
    assert.deepEqual(
      out.map((r) => [r.id, r.event.type, r.event.type !== 'lost' && r.event.pid]),
      [
        [3, 'exec', 903],
        [3, 'exit', 903],
      ],
      "corral's nsenter, outside the sandbox's pid namespace, is plumbing: only what it starts inside is reported",
    );
    const e = out[0]?.event;
    assert.ok(e?.type === 'exec');
    assert.equal(e.ppid, 902, 'its parent is the process that brought it in');
    // Without such a target, a host exec costs no /proc read again.
    filter.remove(3);
    const reads = proc.reads;
    assert.deepEqual(feed(exec(501)), []);
    assert.equal(proc.reads, reads);
  });

  it("hides corral exec's whole way in (prlimit, setpriv, nsenter, nested bwrap, status shell) and reports the user's command and its children", () => {
    const { proc, filter, feed } = setup();
    filter.remove(1);
    filter.add({ id: 4, label: 'box', initPid: 10, cgroupName: 'run-a', joiners: true });
    const inCg = { cgroup: 'run-a' };
    const shim = ['/bin/sh', '-c', 'exec "$@"', 'corral-exec', 'sh', '-c', 'cat /etc/hostname'];
    const nested = ['/usr/bin/bwrap', '--unshare-user', '--add-seccomp-fd', '3', '--', ...shim];
    proc.set(700, { ppid: 600, argv: ['/usr/bin/prlimit', '--core=0:0', '--', 'setpriv'], ...inCg });
    const plumbing = feed(fork(600, 700), exec(700));
    proc.set(700, { ppid: 600, argv: ['/usr/bin/setpriv', '--no-new-privs', '--', 'nsenter'], ...inCg });
    plumbing.push(...feed(exec(700)));
    proc.set(700, { ppid: 600, argv: ['/usr/bin/nsenter', '--target', '10', '--', ...nested], ...inCg });
    plumbing.push(...feed(exec(700)));
    proc.set(701, { ppid: 700, argv: nested, exe: '/usr/bin/bwrap', ...inCg, pidns: 'box' });
    plumbing.push(...feed(fork(700, 701), exec(701)));
    proc.set(702, { ppid: 701, argv: shim, exe: '/usr/bin/dash', ...inCg, pidns: 'box' });
    plumbing.push(...feed(fork(701, 702), exec(702)));
    assert.deepEqual(plumbing, [], 'nothing of the way in is reported');
    proc.set(702, { ppid: 701, argv: ['sh', '-c', 'cat /etc/hostname'], ...inCg, pidns: 'box' });
    proc.set(703, { ppid: 702, argv: ['cat', '/etc/hostname'], ...inCg, pidns: 'box' });
    const out = feed(
      exec(702),
      fork(702, 703),
      exec(703),
      exit(703, 0),
      exit(702, 0),
      exit(701, 0),
      exit(700, 0),
    );
    assert.deepEqual(
      out.map((r) => [r.event.type, r.event.type !== 'lost' && r.event.pid]),
      [
        ['exec', 702],
        ['fork', 703],
        ['exec', 703],
        ['exit', 703],
        ['exit', 702],
      ],
    );
    const first = out[0]?.event;
    assert.ok(first?.type === 'exec');
    assert.deepEqual([first.command, first.args], ['sh', ['-c', 'cat /etc/hostname']]);
  });

  it('reports a process in the sandbox that merely looks like the status shell', () => {
    const { proc, feed } = setup();
    proc.set(11, { ppid: 10, argv: ['/bin/sh', '-c', 'exec "$@"', 'corral-exec', 'hide-me'], pidns: 'box' });
    const out = feed(fork(10, 11), exec(11));
    assert.deepEqual(
      out.map((r) => r.event.type),
      ['fork', 'exec'],
      'only processes coming in from outside can be plumbing',
    );
  });

  it('uses what the capture read at the exec, not /proc later: a short joiner is adopted and shown after it is gone', () => {
    const { proc, filter, feed } = setup();
    filter.remove(1);
    filter.add({ id: 5, label: 'box', initPid: 10, cgroupName: 'run-a', joiners: true });
    const reads = proc.reads;
    const info = (command: string, args: string[]) => ({
      command,
      args,
      argv: 'full' as const,
      exe: null,
      cwd: '/',
    });
    const at = (pid: number, i: ReturnType<typeof info>, ns: string): ProcEvent => ({
      kind: 'exec',
      timestampNs: ts,
      pid,
      tgid: pid,
      info: i,
      pidNs: ns,
      cgroup: '4:pids:/corral/run-a\n',
    });
    // Nothing of 800-802 is in the fake /proc any more: all of it exited before the filter ran.
    const out = feed(
      at(800, info('/usr/bin/nsenter', ['--target', '10']), 'host'),
      fork(800, 801),
      at(801, info('/bin/sh', ['-c', 'exec "$@"', 'corral-exec', 'true']), 'box'),
      at(801, info('true', []), 'box'),
      exit(801, 0),
      exit(800, 0),
    );
    assert.deepEqual(
      out.map((r) => [r.event.type, r.event.type === 'exec' ? r.event.command : null]),
      [
        ['exec', 'true'],
        ['exit', null],
      ],
    );
    assert.equal(proc.reads, reads, 'no /proc read was needed');
  });

  it('keeps sandboxes apart when several are traced', () => {
    const { proc, filter, feed } = setup();
    proc
      .set(20, { ppid: 1, argv: ['bwrap'] })
      .set(21, { ppid: 20, argv: ['y'] })
      .set(11, { ppid: 10, argv: ['x'] });
    filter.add({ id: 2, label: 'other', initPid: 20, cgroupName: undefined });
    const out = feed(fork(10, 11), fork(20, 21), exec(21), exec(11));
    assert.deepEqual(
      out.map((r) => [r.id, r.event.type, r.event.type !== 'lost' && r.event.pid]),
      [
        [1, 'fork', 11],
        [2, 'fork', 21],
        [2, 'exec', 21],
        [1, 'exec', 11],
      ],
    );
    filter.remove(2);
    assert.deepEqual(feed(exit(21, 0)), []);
  });

  it('reports processes already in the sandbox when attaching, except its init', () => {
    const proc = new FakeProc()
      .set(10, { ppid: 1, argv: ['bwrap'] })
      .set(11, { ppid: 10, argv: ['server', '--port', '80'] });
    const filter = new SandboxFilter(proc);
    const out = filter.add({ id: 1, label: 'box', initPid: 10, cgroupName: undefined }, [10, 11]);
    assert.equal(out.length, 1);
    const e = out[0]?.event;
    assert.ok(e?.type === 'exec');
    assert.deepEqual([e.pid, e.args, e.attached], [11, ['--port', '80'], true]);
  });
});
