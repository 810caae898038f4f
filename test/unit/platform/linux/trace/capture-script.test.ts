import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { CAPTURE_SCRIPT } from '../../../../../src/platform/linux/trace/capture-script.js';

/** Builds one netlink datagram the way the kernel lays it out (little-endian). */
function datagram(
  what: number,
  data: number[],
  opts: { ack?: number; cnLen?: number; nlLen?: number; idx?: number } = {},
): Buffer {
  const payload = 16 + data.length * 4;
  const total = 16 + 20 + payload;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(opts.nlLen ?? total, 0);
  b.writeUInt16LE(3, 4); // NLMSG_DONE
  b.writeUInt32LE(opts.idx ?? 1, 16); // CN_IDX_PROC
  b.writeUInt32LE(1, 20); // CN_VAL_PROC
  b.writeUInt32LE(77, 24); // seq
  b.writeUInt32LE(opts.ack ?? 0, 28);
  b.writeUInt16LE(opts.cnLen ?? payload, 32);
  b.writeUInt32LE(what, 36);
  b.writeUInt32LE(1, 40); // cpu
  b.writeBigUInt64LE(123_456_789n, 44);
  data.forEach((v, i) => b.writeUInt32LE(v, 52 + 4 * i));
  return b;
}

/** The capture's own parser (its `parse` mode): the events it finds in each datagram. */
function parse(...datagrams: Buffer[]): string[][] {
  const r = spawnSync(
    'perl',
    ['-e', CAPTURE_SCRIPT, '--', 'parse', ...datagrams.map((d) => d.toString('hex'))],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.split('--\n');
  out.pop();
  return out.map((block) => block.split('\n').filter((l) => l !== ''));
}

describe('proc connector capture: datagrams', () => {
  it('compiles', () => {
    const r = spawnSync('perl', ['-c', '-e', CAPTURE_SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('reads a fork, an exec and an exit (with and without the parent old kernels leave out)', () => {
    assert.deepEqual(
      parse(
        datagram(0x1, [100, 100, 200, 201]),
        datagram(0x2, [4242, 4243]),
        datagram(0x80000000, [9, 9, 3 << 8, 17, 5, 6]),
        datagram(0x80000000, [9, 9, 9, 17]),
      ),
      [
        ['F 123456789 100 100 200 201'],
        ['E 123456789 4242 4243'],
        ['X 123456789 9 9 768 6'],
        ['X 123456789 9 9 9 -1'],
      ],
    );
  });

  it('reads the answer to a subscription with its ack number and error', () => {
    assert.deepEqual(parse(datagram(0, [1], { ack: 43 })), [['A 0 43 1']]);
  });

  it('ignores kinds it does not trace (uid, comm, coredump) and other connectors', () => {
    assert.deepEqual(
      parse(
        datagram(0x4, [1, 1, 0, 0]),
        datagram(0x200, [1, 1, 0, 0, 0, 0]),
        datagram(0x40000000, [1, 1, 0, 0]),
        datagram(0x2, [1, 1], { idx: 7 }),
      ),
      [[], [], [], []],
    );
  });

  it('never reads past a short or lying message', () => {
    const full = datagram(0x1, [100, 100, 200, 200]);
    const cuts = Array.from({ length: full.length }, (_, n) => full.subarray(0, n));
    assert.deepEqual(
      parse(...cuts.filter((c) => c.length > 0)),
      cuts.slice(1).map(() => []),
    );
    assert.deepEqual(
      parse(
        datagram(0x1, [100, 100, 200, 200], { cnLen: 200 }), // cn_msg.len claims more than there is
        datagram(0x1, [100, 100]), // too short for a fork
        datagram(0x2, [1, 1], { nlLen: 8 }), // nlmsg_len below its own header
        datagram(0x2, [1, 1], { nlLen: 4096 }), // nlmsg_len beyond the datagram
      ),
      [[], [], [], []],
    );
  });

  it('reads several aligned messages from one datagram', () => {
    assert.deepEqual(parse(Buffer.concat([datagram(0x2, [10, 10]), datagram(0x2, [11, 11])])), [
      ['E 123456789 10 10', 'E 123456789 11 11'],
    ]);
  });
});

/**
 * The capture's routing (its `replay` mode): commands (`cmd:T 100`), fake /proc files
 * (`file:/proc/5/cmdline=HEX`), datagrams of the ordered stream, datagrams of the exec-only
 * socket (`fast:HEX`) and `pending` (how many execs it holds: read early, not yet reached in the
 * ordered stream, reached there first), in order; what it would hand to corral.
 */
function replay(...steps: (string | Buffer)[]): string[] {
  const r = spawnSync(
    'perl',
    [
      '-e',
      CAPTURE_SCRIPT,
      '--',
      'replay',
      ...steps.map((s) => (typeof s === 'string' ? s : s.toString('hex'))),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const hex = (s: string) => Buffer.from(s).toString('hex');
const file = (path: string, content: string) => `file:${path}=${hex(content)}`;
const fork = (parent: number, child: number) => datagram(0x1, [parent, parent, child, child]);
/** A new thread of process `tgid`: the kernel names the process's parent as its parent. */
const thread = (tgid: number, tid: number, processParent = 1) =>
  datagram(0x1, [processParent, processParent, tid, tgid]);
const exec = (pid: number) => datagram(0x2, [pid, pid]);
const exit = (pid: number, tgid = pid) => datagram(0x80000000, [pid, tgid, 0, 17, 1, 1]);

describe('proc connector capture: what it follows', () => {
  it('drops everything while nothing is followed, without reading /proc', () => {
    // A host process whose /proc files exist: still nothing is read or passed on.
    assert.deepEqual(replay(file('/proc/50/cmdline', 'secret\0'), fork(1, 50), exec(50), exit(50)), []);
  });

  it('follows a traced process, what it forks and execs, until each exits', () => {
    const out = replay(
      'cmd:T 100',
      fork(100, 101),
      file('/proc/101/cmdline', '/bin/echo\0a b\0'),
      file('/proc/101/exe', '/usr/bin/echo'),
      file('/proc/101/cwd', '/work'),
      exec(101),
      fork(7, 8), // the host's: dropped
      exec(8),
      exit(101),
      exec(101), // pid 101 again, reused by the host after its exit: dropped
      exit(100),
    );
    assert.deepEqual(out, [
      'F 123456789 100 100 101 101',
      `E 123456789 101 101 ${hex('/bin/echo\0a b\0')} ${hex('/usr/bin/echo')} ${hex('/work')} - ? ?`,
      'X 123456789 101 101 0 1',
      'X 123456789 100 100 0 1',
    ]);
  });

  it("passes a thread's exit but keeps following its process", () => {
    const out = replay('cmd:T 100', thread(100, 102), exit(102, 100), fork(100, 103));
    assert.deepEqual(out, [
      'F 123456789 1 1 102 100',
      'X 123456789 102 100 0 1',
      'F 123456789 100 100 103 103',
    ]);
  });

  it('keeps following a process whose main thread ended while another thread runs on', () => {
    const out = replay(
      'cmd:T 100',
      thread(100, 102), // a second thread
      exit(100), // the main thread's pthread_exit
      fork(100, 103), // the second thread forks: still the traced process
      exit(102, 100), // the last thread: now the process has ended
      fork(100, 104), // a reused pid: dropped
    );
    assert.deepEqual(out, [
      'F 123456789 1 1 102 100',
      'X 123456789 100 100 0 1',
      'F 123456789 100 100 103 103',
      'X 123456789 102 100 0 1',
    ]);
  });

  it('keeps following a process whose other thread exec’d (its main thread ended on the way)', () => {
    const out = replay(
      'cmd:T 100',
      thread(100, 102),
      exit(100), // de_thread ends the main thread
      file('/proc/100/cmdline', '/bin/true\0'),
      exec(100),
      exit(100),
      fork(100, 105),
    );
    assert.deepEqual(
      out.map((l) => l.split(' ')[0]),
      ['F', 'X', 'E', 'X'],
    );
  });

  it('adopts a process that execs inside a followed cgroup, with its pid namespace and cgroup', () => {
    const out = replay(
      'cmd:C corral-abc',
      file('/proc/60/cgroup', '4:memory:/corral/corral-abc\n1:pids:/corral/corral-abc\n'),
      file('/proc/60/cmdline', 'sh\0'),
      file('/proc/60/ns/pid', 'pid:[4026532000]'),
      file('/proc/61/cgroup', '4:memory:/corral/corral-abcd\n'), // a different name that starts alike
      exec(60),
      exec(61),
      fork(60, 62),
      'cmd:c corral-abc',
      file('/proc/63/cgroup', '4:memory:/corral/corral-abc\n'),
      exec(63), // no longer followed by cgroup
    );
    assert.equal(out.length, 2);
    const [e, f] = out;
    assert.equal(
      e,
      `E 123456789 60 60 ${hex('sh\0')} - - - ${hex('pid:[4026532000]')} ${hex('4:memory:/corral/corral-abc\n1:pids:/corral/corral-abc\n')}`,
    );
    assert.equal(f, 'F 123456789 60 60 62 62');
  });

  it('reads the kernel name of a process whose argv is gone (a zombie)', () => {
    const out = replay('cmd:T 100', file('/proc/100/comm', 'true\n'), exec(100));
    assert.deepEqual(out, [`E 123456789 100 100 - - - ${hex('true\n')} ? ?`]);
  });

  it('lets everything through after A', () => {
    const out = replay('cmd:A', fork(7, 8), exit(8));
    assert.deepEqual(out, ['F 123456789 7 7 8 8', 'X 123456789 8 8 0 1']);
  });

  it('reads an exec from the exec-only socket at once and reports it where the ordered stream has it', () => {
    const argv = hex('/bin/true\0a1\0');
    const out = replay(
      'cmd:T 100',
      fork(100, 101),
      file('/proc/101/cmdline', '/bin/true\0a1\0'),
      `fast:${exec(101).toString('hex')}`,
      file('/proc/101/cmdline', ''), // gone by the time the ordered stream gets there
      'pending',
      exec(101),
      exit(101),
      'pending',
    );
    assert.deepEqual(out, [
      'F 123456789 100 100 101 101',
      'P 1 1 0',
      `E 123456789 101 101 ${argv} - - - ? ?`,
      'X 123456789 101 101 0 1',
      'P 0 0 0',
    ]);
  });

  it('drops the exec-socket copy of an exec the ordered stream gave first, without reading it again', () => {
    const out = replay(
      'cmd:T 100',
      fork(100, 101),
      file('/proc/101/cmdline', 'sh\0'),
      exec(101), // read at a timer wake-up, before the exec socket's copy
      'pending',
      `fast:${exec(101).toString('hex')}`,
      'pending',
    );
    assert.deepEqual(out, [
      'F 123456789 100 100 101 101',
      `E 123456789 101 101 ${hex('sh\0')} - - - ? ?`,
      'P 0 0 1',
      'P 0 0 0',
    ]);
  });

  it('ignores commands it does not know, and cgroup names with spaces or slashes', () => {
    assert.deepEqual(replay('cmd:T x', 'cmd:T', 'cmd:C a/b', 'cmd:Z', fork(1, 2)), []);
  });
});
