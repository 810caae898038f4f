import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectStaleRunCgroups, runCgroupName } from '../../../../../src/platform/linux/cgroup/gc.js';
import { startTimeOf } from '../../../../../src/platform/linux/proc-tree.js';
import { fakeCgroupV2 } from '../../../../helpers/fake-cgroupfs.js';

describe('stale run cgroups', () => {
  it('removes the cgroups of dead corral processes only, never live ones or containers', async () => {
    const { driver, cleanup } = fakeCgroupV2();
    try {
      const mine = runCgroupName();
      driver.create(mine);
      driver.create('run-999999999-12345-1-abcdef'); // a pid that cannot exist
      driver.create(`run-${process.pid}-1-1-zzzzzz`); // our pid, but another start time: a reused pid
      driver.create('ct-web');
      assert.ok(mine.startsWith(`run-${process.pid}-${startTimeOf('self')}-`));
      const removed = await collectStaleRunCgroups(driver, 1);
      assert.deepEqual(
        removed.sort(),
        ['run-999999999-12345-1-abcdef', `run-${process.pid}-1-1-zzzzzz`].sort(),
      );
      assert.deepEqual(driver.list().sort(), ['ct-web', mine].sort());
      driver.create('run-999999998-1-1-later');
      assert.deepEqual(await collectStaleRunCgroups(driver, 2), [], 'not again within a minute');
      assert.deepEqual(await collectStaleRunCgroups(driver, 70_000), ['run-999999998-1-1-later']);
    } finally {
      cleanup();
    }
  });
});
