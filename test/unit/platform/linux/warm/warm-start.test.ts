import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../../../../src/index.js';
import type { LinuxBackend } from '../../../../../src/platform/linux/linux-backend.js';
import { fakeLinuxBackend } from '../../../../helpers/fake-backend.js';

/** Waits until the backend's spare has been moved into its cgroup (done off the main thread). */
async function spareReady(root: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const spare = readdirSync(path.join(root, 'corral')).find((n) => n.startsWith('spare-'));
    const procs = spare && path.join(root, 'corral', spare, 'cgroup.procs');
    if (spare && procs && existsSync(procs) && readFileSync(procs, 'utf8') !== '') {
      await sleep(5); // the pool marks it ready once every write has been acknowledged
      return spare;
    }
    await sleep(5);
  }
  throw new Error('no spare was parked');
}

describe('warm starts', () => {
  it('parks a spare after a run, and the next run starts in it without moving anything', async () => {
    let seen: { procs: string; pids: string; memory: string } | undefined;
    let warmSpare: string | undefined;
    const { backend, launcher, tree } = fakeLinuxBackend(
      {
        stdout: 'ok\n',
        onBlocked: () => {
          if (!warmSpare) return;
          const dir = warmSpare;
          const f = (n: string) => readFileSync(path.join(tree.root, 'corral', dir, n), 'utf8');
          seen = { procs: f('cgroup.procs'), pids: f('pids.max'), memory: f('memory.max') };
        },
      },
      { warmStarts: true },
    );
    try {
      const spec = { command: ['true'], limits: { memory: '64Mi', pids: 10 } };
      const cold = await run(spec, { backend });
      assert.equal(cold.stdout, 'ok\n');
      const spareName = await spareReady(tree.root);
      const parked = launcher.launches.find((l) => l.file === '/bin/sh');
      assert.equal(parked?.uid, 2_000_000_000, 'the spare runs as the sandbox user');
      assert.deepEqual(parked?.env, {}, 'the spare holds no environment of corral');
      const parkedPid = readFileSync(path.join(tree.root, 'corral', spareName, 'cgroup.procs'), 'utf8');

      warmSpare = spareName;
      const warm = await run(spec, { backend });
      assert.equal(warm.stdout, 'ok\n');
      assert.equal(warm.exitCode, 0);
      assert.equal(warm.limits.memory?.enforcement, 'kernel');
      // Only the spare was ever moved; bwrap's init was born inside. Its monitor gets a pids slot.
      assert.equal(seen?.procs, parkedPid);
      assert.equal(seen?.pids, '11');
      assert.equal(seen?.memory, String(64 * 2 ** 20));
      assert.equal(warm.limits.pids?.value, '10');
    } finally {
      await (backend as LinuxBackend).dispose();
      tree.cleanup();
    }
  });

  it('starts cold when the spare is not ready, and never uses one for another user', async () => {
    const { backend, launcher, tree } = fakeLinuxBackend({}, { warmStarts: true });
    try {
      await run({ command: ['true'] }, { backend });
      await run({ command: ['true'] }, { backend });
      // The second run came before the first spare finished moving: both started cold.
      const cold = () =>
        launcher.launches.filter((l) => l.file === '/usr/bin/prlimit' && l.args.includes('/usr/bin/bwrap'));
      assert.equal(cold().length, 2);
      await spareReady(tree.root);
      await run({ command: ['true'], user: { uid: 5, gid: 5 } }, { backend });
      assert.equal(cold().length, 3, 'a run as uid 5 starts cold, not in the uid-2000000000 spare');
      assert.equal(cold()[2]?.uid, 5);
    } finally {
      await (backend as LinuxBackend).dispose();
      tree.cleanup();
    }
  });
});
