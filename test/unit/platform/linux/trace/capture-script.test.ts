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
