import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PROC_CN_MCAST_IGNORE,
  PROC_CN_MCAST_LISTEN,
  mcastControlMessage,
  parseProcEvents,
} from '../../../../../src/platform/linux/trace/proc-event.js';

/** Builds one netlink datagram the way the kernel lays it out (little-endian). */
function datagram(
  what: number,
  data: number[],
  opts: { ack?: number; cnLen?: number; nlLen?: number } = {},
): Buffer {
  const payload = 16 + data.length * 4;
  const total = 16 + 20 + payload;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(opts.nlLen ?? total, 0);
  b.writeUInt16LE(3, 4); // NLMSG_DONE
  b.writeUInt32LE(1, 16); // CN_IDX_PROC
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

describe('proc connector datagrams', () => {
  it('reads a fork with parent and child pids and tgids', () => {
    const [ev] = parseProcEvents(datagram(0x1, [100, 100, 200, 200]));
    assert.deepEqual(ev, {
      kind: 'fork',
      timestampNs: 123_456_789n,
      parentPid: 100,
      parentTgid: 100,
      childPid: 200,
      childTgid: 200,
    });
  });

  it('reads an exec with its pid and tgid', () => {
    const [ev] = parseProcEvents(datagram(0x2, [4242, 4242]));
    assert.deepEqual(ev, { kind: 'exec', timestampNs: 123_456_789n, pid: 4242, tgid: 4242 });
  });

  it('reads an exit with the wait status and the parent, and without the parent on old kernels', () => {
    const [ev] = parseProcEvents(datagram(0x80000000, [9, 9, 3 << 8, 17, 5, 5]));
    assert.deepEqual(ev, {
      kind: 'exit',
      timestampNs: 123_456_789n,
      pid: 9,
      tgid: 9,
      exitCode: 768,
      parentTgid: 5,
    });
    const [old] = parseProcEvents(datagram(0x80000000, [9, 9, 9, 17]));
    assert.equal(old?.kind === 'exit' && old.parentTgid, null);
  });

  it('reads the acknowledgement of a subscription with its error and ack number', () => {
    const [ev] = parseProcEvents(datagram(0, [1], { ack: 43 }));
    assert.deepEqual(ev, { kind: 'ack', ack: 43, err: 1 });
  });

  it('ignores event kinds it does not trace (uid, comm, coredump)', () => {
    assert.deepEqual(parseProcEvents(datagram(0x4, [1, 1, 0, 0])), []);
    assert.deepEqual(parseProcEvents(datagram(0x200, [1, 1, 0, 0, 0, 0])), []);
    assert.deepEqual(parseProcEvents(datagram(0x40000000, [1, 1, 0, 0])), []);
  });

  it('never reads past a short or lying message', () => {
    const full = datagram(0x1, [100, 100, 200, 200]);
    for (let n = 0; n < full.length; n++)
      assert.deepEqual(parseProcEvents(full.subarray(0, n)), [], `cut at ${n}`);
    // cn_msg.len claims more than the datagram holds
    assert.deepEqual(parseProcEvents(datagram(0x1, [100, 100, 200, 200], { cnLen: 200 })), []);
    // the fork payload is too short for a fork
    assert.deepEqual(parseProcEvents(datagram(0x1, [100, 100])), []);
    // nlmsg_len below the header size, or beyond the buffer
    assert.deepEqual(parseProcEvents(datagram(0x2, [1, 1], { nlLen: 8 })), []);
    assert.deepEqual(parseProcEvents(datagram(0x2, [1, 1], { nlLen: 4096 })), []);
  });

  it('skips messages from other connectors', () => {
    const b = datagram(0x2, [1, 1]);
    b.writeUInt32LE(7, 16);
    assert.deepEqual(parseProcEvents(b), []);
  });

  it('reads several aligned messages from one datagram', () => {
    const both = Buffer.concat([datagram(0x2, [10, 10]), datagram(0x2, [11, 11])]);
    assert.deepEqual(
      parseProcEvents(both).map((e) => e.kind === 'exec' && e.pid),
      [10, 11],
    );
  });

  it('reads messages at byte offsets that are not multiples of 8', () => {
    const padded = Buffer.alloc(datagram(0x2, [5, 5]).length + 3);
    datagram(0x2, [5, 5]).copy(padded, 3);
    const [ev] = parseProcEvents(padded.subarray(3));
    assert.equal(ev?.kind === 'exec' && ev.pid, 5);
  });

  it('builds the subscription message: header, connector id, ack tag and the operation', () => {
    const m = mcastControlMessage(PROC_CN_MCAST_LISTEN, 42, 1234);
    assert.equal(m.length, 40);
    assert.equal(m.readUInt32LE(0), 40);
    assert.equal(m.readUInt32LE(12), 1234);
    assert.deepEqual([m.readUInt32LE(16), m.readUInt32LE(20)], [1, 1]);
    assert.equal(m.readUInt32LE(28), 42);
    assert.equal(m.readUInt16LE(32), 4);
    assert.equal(m.readUInt32LE(36), 1);
    assert.equal(mcastControlMessage(PROC_CN_MCAST_IGNORE, 1, 1).readUInt32LE(36), 2);
  });
});
