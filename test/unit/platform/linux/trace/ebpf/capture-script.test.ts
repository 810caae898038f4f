import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { BPF_CAPTURE_SCRIPT } from '../../../../../../src/platform/linux/trace/ebpf/capture-script.js';
import { Kind } from '../../../../../../src/platform/linux/trace/ebpf/record-format.js';

function replay(...items: string[]): string[] {
  const r = spawnSync('perl', ['-e', BPF_CAPTURE_SCRIPT, '--', 'replay', ...items], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** A fork or exit record: kind, a word (a fork's forker: 42), timestamp, then four u32s. */
function small(kind: number, ...fields: number[]): string {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(kind, 0);
  b.writeUInt32LE(kind === Kind.fork ? 42 : 0, 4);
  b.writeBigUInt64LE(5_000_000_123n, 8);
  fields.forEach((f, i) => b.writeUInt32LE(f >>> 0, 16 + 4 * i));
  return `rec:${b.toString('hex')}`;
}

describe('eBPF capture: records to lines', () => {
  it('compiles with the modules of perl-base alone (Debian’s minimal perl has no Time::HiRes)', () => {
    // Where perl-base has a directory of its own (Debian, Ubuntu), only it is searched.
    const only = 'BEGIN { my @base = grep { m{/perl-base$} } @INC; @INC = @base if @base }';
    const r = spawnSync('perl', ['-c', '-e', only, '-e', BPF_CAPTURE_SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('writes forks (with who forked) and exits as the proc connector capture does', () => {
    assert.deepEqual(replay(small(Kind.fork, 10, 10, 11, 11), small(Kind.exit, 11, 11, 3 << 8, 10)), [
      'F 5000000123 10 10 11 11 42',
      'X 5000000123 11 11 768 10',
    ]);
  });

  it('drops records it cannot read (too short, unknown kind, lengths past the end)', () => {
    const exec = Buffer.alloc(72);
    exec.writeUInt32LE(Kind.exec, 0);
    exec.writeUInt32LE(4000, 40); // argv bytes the record does not have
    assert.deepEqual(replay('rec:0100', small(9, 1, 2, 3, 4), `rec:${exec.toString('hex')}`), [
      '?',
      '?',
      '?',
    ]);
  });

  it('takes cgroups with their kernfs keys, tags them in order, and forgets them', () => {
    // S: the config flags (2: some cgroup is followed), then each followed cgroup's tag.
    assert.deepEqual(replay('cmd:C box 4:41 11:41', 'cmd:C vm 255:9', 'state', 'cmd:c box', 'state'), [
      'S 2 box=1 vm=2',
      'S 2 vm=2',
    ]);
    assert.deepEqual(replay('cmd:C box 4:41', 'cmd:c box', 'state'), ['S 0'], 'none left');
    assert.deepEqual(replay('cmd:C bad 4:x', 'state'), ['S 0'], 'a malformed key is no command');
  });

  it('answers every drain asked for, in order', () => {
    assert.deepEqual(replay('cmd:D', 'cmd:D', 'cmd:D', 'answer', 'answer'), ['D', 'D', 'D']);
  });
});
