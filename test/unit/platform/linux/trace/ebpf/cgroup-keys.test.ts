import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupKeysOf } from '../../../../../../src/platform/linux/trace/ebpf/cgroup-keys.js';
import { DEFAULT_HIERARCHY } from '../../../../../../src/platform/linux/trace/ebpf/record-format.js';

const line = (id: number, mountPoint: string, fsType: string, options: string) =>
  `${id} 20 0:${id} / ${mountPoint} rw,nosuid - ${fsType} cgroup ${options}`;
const SUBSYSTEMS: Record<string, number> = { cpu: 1, cpuacct: 2, io: 3, memory: 4, pids: 11 };

describe('cgroup keys of the eBPF tracer', () => {
  it('names each v1 directory by the subsystems of its hierarchy, co-mounted ones both', () => {
    const mountinfo = [
      line(30, '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
      line(31, '/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'),
      line(32, '/sys/fs/cgroup/pids', 'cgroup', 'rw,pids'),
      line(33, '/sys/fs/cgroup/unified', 'cgroup2', 'rw,nsdelegate'),
    ].join('\n');
    const inodes: Record<string, bigint> = {
      '/sys/fs/cgroup/memory/corral/box': 41n,
      '/sys/fs/cgroup/cpu,cpuacct/corral/box': 7n,
      '/sys/fs/cgroup/pids/corral/box': 41n,
    };
    const keys = cgroupKeysOf({
      dirs: Object.keys(inodes),
      mountinfo,
      subsystemId: (c) => SUBSYSTEMS[c],
      inode: (d) => inodes[d],
    });
    assert.deepEqual(keys, [
      { hierarchy: 4, id: 41n },
      { hierarchy: 1, id: 7n },
      { hierarchy: 2, id: 7n },
      { hierarchy: 11, id: 41n },
    ]);
  });

  it('names a v2 directory by the default hierarchy, and skips what is gone or not a cgroup', () => {
    const mountinfo = [line(40, '/sys/fs/cgroup', 'cgroup2', 'rw'), line(41, '/tmp', 'tmpfs', 'rw')].join(
      '\n',
    );
    const keys = cgroupKeysOf({
      dirs: ['/sys/fs/cgroup/corral/box', '/sys/fs/cgroup/corral/gone', '/tmp/corral/box'],
      mountinfo,
      subsystemId: () => undefined,
      inode: (d) => (d.endsWith('gone') ? undefined : 99n),
    });
    assert.deepEqual(keys, [{ hierarchy: DEFAULT_HIERARCHY, id: 99n }]);
  });
});
