import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { detectCgroups, parseMountinfo } from '../../../../../src/platform/linux/cgroup/detect.js';
import { CgroupV1Driver } from '../../../../../src/platform/linux/cgroup/v1.js';
import { fakeCgroupV2 } from '../../../../helpers/fake-cgroupfs.js';

describe('cgroup v2 driver (fake cgroupfs tree)', () => {
  it('enables the controllers down to its own directory and writes the limits', () => {
    const { root, driver, cleanup } = fakeCgroupV2();
    try {
      const cg = driver.create('run-test');
      const applied = cg.apply({ memoryBytes: 256 * 2 ** 20, cpus: 1.5, pids: 64 });
      assert.deepEqual(applied, {
        memory: 'cgroup-v2 memory.max',
        cpus: 'cgroup-v2 cpu.max',
        pids: 'cgroup-v2 pids.max',
      });
      assert.equal(readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8'), '+memory +cpu +pids');
      assert.equal(
        readFileSync(path.join(root, 'corral', 'cgroup.subtree_control'), 'utf8'),
        '+memory +cpu +pids',
      );
      const dir = path.join(root, 'corral', 'run-test');
      assert.equal(readFileSync(path.join(dir, 'memory.max'), 'utf8'), String(256 * 2 ** 20));
      assert.equal(readFileSync(path.join(dir, 'cpu.max'), 'utf8'), '150000 100000');
      assert.equal(readFileSync(path.join(dir, 'pids.max'), 'utf8'), '64');
      cg.addProcess(4242);
      assert.deepEqual(cg.procs(), [4242]);
    } finally {
      cleanup();
    }
  });

  it('caps swap and kills the whole group on OOM when the kernel offers those files', () => {
    const { root, driver, cleanup } = fakeCgroupV2();
    try {
      const cg = driver.create('run-swap');
      const dir = path.join(root, 'corral', 'run-swap');
      writeFileSync(path.join(dir, 'memory.swap.max'), 'max');
      writeFileSync(path.join(dir, 'memory.oom.group'), '0');
      cg.apply({ memoryBytes: 2 ** 20 });
      assert.equal(readFileSync(path.join(dir, 'memory.swap.max'), 'utf8'), '0');
      assert.equal(readFileSync(path.join(dir, 'memory.oom.group'), 'utf8'), '1');
    } finally {
      cleanup();
    }
  });

  it('reads usage, peak, cpu split, pids and OOM kills', () => {
    const { root, driver, cleanup } = fakeCgroupV2();
    try {
      const cg = driver.create('run-stats');
      const dir = path.join(root, 'corral', 'run-stats');
      writeFileSync(path.join(dir, 'memory.current'), '1048576\n');
      writeFileSync(path.join(dir, 'memory.peak'), '2097152\n');
      writeFileSync(path.join(dir, 'memory.max'), 'max\n');
      writeFileSync(path.join(dir, 'cpu.stat'), 'usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\n');
      writeFileSync(path.join(dir, 'pids.current'), '3\n');
      writeFileSync(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
      assert.deepEqual(cg.stats(), {
        memoryCurrentBytes: 1048576,
        memoryPeakBytes: 2097152,
        memoryLimitBytes: null,
        cpuUserUs: 2000,
        cpuSystemUs: 1000,
        cpuUsageUs: 3000,
        pidsCurrent: 3,
        oomKills: 1,
      });
    } finally {
      cleanup();
    }
  });

  it('removes its directory on destroy and can be destroyed twice', async () => {
    const { root, driver, cleanup } = fakeCgroupV2();
    try {
      const cg = driver.create('run-gone');
      await cg.destroy();
      await cg.destroy();
      assert.equal(existsSync(path.join(root, 'corral', 'run-gone')), false);
      assert.deepEqual(driver.list(), []);
    } finally {
      cleanup();
    }
  });

  it('only offers the controllers the delegated subtree has', () => {
    const { driver, cleanup } = fakeCgroupV2('cpu pids');
    try {
      assert.deepEqual([...driver.controllers].sort(), ['cpu', 'pids']);
    } finally {
      cleanup();
    }
  });
});

describe('cgroup v1 driver (fake hierarchies)', () => {
  it('makes one directory per hierarchy and writes the legacy files', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'corral-cgv1-'));
    const mounts = {
      memory: `${base}/memory`,
      cpu: `${base}/cpu`,
      cpuacct: `${base}/cpuacct`,
      pids: `${base}/pids`,
    };
    for (const m of Object.values(mounts)) mkdirSync(m);
    try {
      const driver = new CgroupV1Driver({ mounts, signal: () => undefined });
      const cg = driver.create('run-v1');
      assert.deepEqual(cg.apply({ memoryBytes: 64 * 2 ** 20, cpus: 0.5, pids: 10 }), {
        memory: 'cgroup-v1 memory.limit_in_bytes',
        cpus: 'cgroup-v1 cpu.cfs_quota_us',
        pids: 'cgroup-v1 pids.max',
      });
      assert.equal(
        readFileSync(`${base}/memory/corral/run-v1/memory.limit_in_bytes`, 'utf8'),
        String(64 * 2 ** 20),
      );
      assert.equal(readFileSync(`${base}/cpu/corral/run-v1/cpu.cfs_quota_us`, 'utf8'), '50000');
      assert.equal(readFileSync(`${base}/cpu/corral/run-v1/cpu.cfs_period_us`, 'utf8'), '100000');
      assert.equal(readFileSync(`${base}/pids/corral/run-v1/pids.max`, 'utf8'), '10');
      writeFileSync(
        `${base}/memory/corral/run-v1/memory.oom_control`,
        'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
      );
      writeFileSync(`${base}/cpuacct/corral/run-v1/cpuacct.usage_user`, '5000000');
      assert.equal(cg.stats().oomKills, 2);
      assert.equal(cg.stats().cpuUserUs, 5000);
      cg.addProcess(77);
      for (const m of Object.values(mounts))
        assert.equal(readFileSync(`${m}/corral/run-v1/cgroup.procs`, 'utf8'), '77');
      await cg.destroy();
      for (const m of Object.values(mounts)) assert.equal(existsSync(`${m}/corral/run-v1`), false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('cgroup detection', () => {
  const line = (mp: string, type: string, opts: string) =>
    `30 1 0:26 / ${mp} rw,nosuid - ${type} cgroup ${opts}`;

  it('reads mount points and super options from mountinfo, octal escapes included', () => {
    const m = parseMountinfo(`${line('/sys/fs/cgroup/cpu\\040x', 'cgroup', 'rw,cpu')}\n`);
    assert.deepEqual(m, [
      { mountPoint: '/sys/fs/cgroup/cpu x', fsType: 'cgroup', superOptions: ['rw', 'cpu'] },
    ]);
  });

  it('prefers v2 when the unified hierarchy has the controllers, and uses the delegated subtree for a user', () => {
    const { root, cleanup } = fakeCgroupV2();
    try {
      const user = path.join(root, 'user.slice', 'user@1000.service');
      mkdirSync(path.join(user, 'app.slice'), { recursive: true });
      writeFileSync(path.join(user, 'cgroup.controllers'), 'cpu memory pids');
      writeFileSync(path.join(user, 'cgroup.subtree_control'), '');
      const own = process.getuid?.() ?? 0;
      // systemd delegates user@UID.service to the user: make the fake tree look like that.
      const uid = own === 0 ? 4242 : own;
      if (own === 0) {
        chownSync(user, uid, uid);
        const d = detectCgroups({
          mountinfo: line(root, 'cgroup2', 'rw'),
          selfCgroup: '0::/user.slice/user@1000.service/app.slice\n',
          uid: 4343,
        });
        assert.equal(d.driver, undefined, 'a subtree owned by someone else is not ours');
        assert.match(d.problems[0]?.reason ?? '', /no subtree delegated to uid 4343/);
      }
      const d = detectCgroups({
        mountinfo: line(root, 'cgroup2', 'rw'),
        selfCgroup: '0::/user.slice/user@1000.service/app.slice\n',
        uid,
      });
      assert.equal(d.driver?.version, 'v2');
      assert.equal(d.driver?.base, path.join(user, 'corral'));
      assert.deepEqual([...(d.driver?.controllers ?? [])].sort(), ['cpu', 'memory', 'pids']);
      const asRoot = detectCgroups({ mountinfo: line(root, 'cgroup2', 'rw'), selfCgroup: '0::/\n', uid: 0 });
      assert.equal(asRoot.driver?.version, 'v2');
      assert.equal(asRoot.driver?.base, path.join(root, 'corral'));
    } finally {
      cleanup();
    }
  });

  it('falls back to v1 on a hybrid host whose cgroup2 mount has none of the controllers', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'corral-hybrid-'));
    try {
      for (const d of ['unified', 'memory', 'cpu', 'pids']) mkdirSync(path.join(base, d));
      writeFileSync(path.join(base, 'unified', 'cgroup.controllers'), 'hugetlb\n');
      const mountinfo = [
        line(`${base}/unified`, 'cgroup2', 'rw'),
        line(`${base}/memory`, 'cgroup', 'rw,memory'),
        line(`${base}/cpu`, 'cgroup', 'rw,cpu,cpuacct'),
        line(`${base}/pids`, 'cgroup', 'rw,pids'),
      ].join('\n');
      const d = detectCgroups({ mountinfo, selfCgroup: '', uid: 0 });
      assert.equal(d.driver?.version, 'v1');
      assert.deepEqual([...(d.driver?.controllers ?? [])].sort(), ['cpu', 'memory', 'pids']);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
