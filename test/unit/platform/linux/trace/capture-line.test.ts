import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCaptureLine } from '../../../../../src/platform/linux/trace/capture-line.js';

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

describe('trace capture: output lines', () => {
  it('reads fork and exit events, an exit without its parent as null', () => {
    assert.deepEqual(parseCaptureLine('F 123456789012 10 10 11 12'), {
      kind: 'event',
      event: {
        kind: 'fork',
        timestampNs: 123456789012n,
        parentPid: 10,
        parentTgid: 10,
        childPid: 11,
        childTgid: 12,
      },
    });
    assert.deepEqual(parseCaptureLine('X 5 11 11 256 10'), {
      kind: 'event',
      event: { kind: 'exit', timestampNs: 5n, pid: 11, tgid: 11, exitCode: 256, parentTgid: 10 },
    });
    const old = parseCaptureLine('X 5 11 11 9 -1');
    assert.equal(old?.kind === 'event' && old.event.kind === 'exit' && old.event.parentTgid, null);
  });

  it('reads an exec with the argv, exe and cwd the capture read, bytes intact', () => {
    const argv = ['sh', '-c', 'echo "a b" \'é\' \n', ''].join('\0') + '\0';
    const l = parseCaptureLine(`E 7 20 20 ${hex(argv)} ${hex('/usr/bin/dash')} ${hex('/work dir')} - ? ?`);
    assert.ok(l?.kind === 'event' && l.event.kind === 'exec');
    assert.deepEqual(l.event.info, {
      command: 'sh',
      args: ['-c', 'echo "a b" \'é\' \n', ''],
      argv: 'full',
      exe: '/usr/bin/dash',
      cwd: '/work dir',
    });
    assert.equal('pidNs' in l.event, false, '? means not looked at');
    assert.equal('cgroup' in l.event, false);
  });

  it('reads an exec whose argv was gone (a zombie) as its kernel name, argv not captured', () => {
    const l = parseCaptureLine(`E 7 20 20 - - - ${hex('true\n')} - -`);
    assert.ok(l?.kind === 'event' && l.event.kind === 'exec');
    assert.deepEqual(l.event.info, { command: 'true', args: null, argv: 'none', exe: null, cwd: null });
    assert.equal(l.event.pidNs, null, '- means gone');
    assert.equal(l.event.cgroup, null);
  });

  it('reads the pid namespace and cgroup when the capture looked', () => {
    const l = parseCaptureLine(
      `E 7 20 20 ${hex('ls\0')} - - - ${hex('pid:[4026532181]')} ${hex('4:pids:/corral/run-x\n')}`,
    );
    assert.ok(l?.kind === 'event' && l.event.kind === 'exec');
    assert.equal(l.event.pidNs, 'pid:[4026532181]');
    assert.equal(l.event.cgroup, '4:pids:/corral/run-x\n');
  });

  it('reads the forking process of an eBPF fork line', () => {
    const l = parseCaptureLine('F 9 1 1 20 20 11');
    assert.ok(l?.kind === 'event' && l.event.kind === 'fork');
    assert.equal(l.event.forkerTgid, 11);
    const plain = parseCaptureLine('F 9 1 1 20 20');
    assert.ok(plain?.kind === 'event' && !('forkerTgid' in plain.event));
  });

  it('reads an argv the eBPF capture could only copy the start of as truncated', () => {
    const l = parseCaptureLine(`E 7 20 20 ${hex('true\0aaaa')} - - - - ? t`);
    assert.ok(l?.kind === 'event' && l.event.kind === 'exec');
    assert.equal(l.event.info?.argv, 'truncated');
    assert.deepEqual(l.event.info?.args, ['aaaa']);
  });

  it('reads the status lines', () => {
    assert.deepEqual(parseCaptureLine('R split'), { kind: 'ready', mode: 'split' });
    assert.deepEqual(parseCaptureLine('R bpf'), { kind: 'ready', mode: 'bpf' });
    assert.deepEqual(parseCaptureLine('N 1 refused'), { kind: 'refused', errno: 1, why: 'refused' });
    assert.deepEqual(parseCaptureLine('O'), { kind: 'overflow' });
    assert.deepEqual(parseCaptureLine('D'), { kind: 'drained' });
  });

  it('skips anything malformed instead of guessing', () => {
    for (const bad of [
      '',
      'Z 1',
      'R maybe',
      'F x 1 1 2 2',
      'F 1 1 1 2',
      'X 1 a 1 0 1',
      'E 1 2 2 - - -',
      'E 1 2 2 - - - - - ? x',
      'F 1 1 1 2 2 x',
    ])
      assert.equal(parseCaptureLine(bad), undefined, JSON.stringify(bad));
  });
});
