import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LinuxBackend, run } from '../../../src/index.js';
import { detectCgroups } from '../../../src/platform/linux/cgroup/detect.js';
import { cgroupsMissing, linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

const mine = () => (detectCgroups().driver?.list() ?? []).filter((n) => n.includes(`-${process.pid}-`));

describe('warm starts on the real kernel', () => {
  it('runs the next sandbox inside a spare cgroup, with its limits, and leaves nothing once disposed', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const backend = new LinuxBackend({ warmStarts: true });
    try {
      const probe = {
        command: ['sh', '-c', 'grep -E "^[0-9]+:memory:" /proc/self/cgroup'],
        limits: { memory: '64Mi' },
      };
      const cold = await run(probe, { backend });
      // The init was moved into its cgroup after its cgroup namespace was made: it sees the path.
      assert.match(cold.stdout ?? '', /:memory:\/.+corral\/run-/);
      await sleep(300); // the spare is moved into its cgroup while corral is idle
      const warm = await run(probe, { backend });
      // Born inside: its cgroup namespace is rooted at its own cgroup.
      assert.equal(warm.stdout?.split(':').at(-1)?.trim(), '/');
      assert.equal(warm.limits.memory?.enforcement, 'kernel');

      await sleep(300);
      const bomb = await run(
        {
          command: ['python3', '-c', 'a = []\nwhile True: a.append(bytearray(1 << 20))'],
          limits: { memory: '64Mi', timeout: '20s' },
        },
        { backend },
      );
      assert.equal(bomb.reason, 'memory', 'a warm sandbox holds its memory limit');
      assert.equal(bomb.exitCode, 137, 'and its exit status survives: the monitor is never killed');

      await sleep(300);
      const sig = await run({ command: ['sh', '-c', 'kill -TERM $$'] }, { backend });
      assert.equal(sig.exitCode, 143);
      assert.equal(sig.signal, 'SIGTERM');
    } finally {
      await backend.dispose();
    }
    assert.deepEqual(
      mine().filter((n) => n.startsWith('spare-') || n.startsWith('run-')),
      [],
    );
  });
});
