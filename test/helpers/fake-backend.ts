import { LinuxBackend, type LinuxBackendOptions } from '../../src/platform/linux/linux-backend.js';
import type { CgroupDriver } from '../../src/platform/linux/cgroup/types.js';
import { fakeCgroupV2 } from './fake-cgroupfs.js';
import { fakeLauncher, type FakeBwrapOptions } from './fake-bwrap.js';

/** A Linux backend whose processes are fake and whose cgroupfs is a temp directory. */
export function fakeLinuxBackend(
  bwrap: FakeBwrapOptions = {},
  overrides: Partial<LinuxBackendOptions> & { driver?: CgroupDriver | null } = {},
) {
  const tree = fakeCgroupV2();
  const launcher = fakeLauncher(bwrap);
  const driver = overrides.driver === undefined ? tree.driver : overrides.driver;
  const backend = new LinuxBackend({
    launcher,
    cgroups: () => ({
      driver: driver ?? undefined,
      problems: driver
        ? []
        : [{ reason: 'no cgroup filesystem is mounted', fix: 'mount cgroup2 on /sys/fs/cgroup' }],
    }),
    bwrapPath: '/usr/bin/bwrap',
    prlimitPath: '/usr/bin/prlimit',
    hostUid: 0,
    hostGid: 0,
    ...overrides,
  });
  return { backend, launcher, tree };
}
