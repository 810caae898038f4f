import assert from 'node:assert/strict';
import { spawn as spawnChild } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, it } from 'node:test';
import { run } from '../../../src/index.js';
import { detectCgroups } from '../../../src/platform/linux/cgroup/detect.js';
import {
  cgroupsMissing,
  hostPidsWith,
  leftoverRunCgroups,
  linuxSandboxMissing,
  marker,
} from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/run-and-hang.mts');

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe('nothing outlives a run', () => {
  it('takes the sandbox down with corral when corral is SIGKILLed, and the next run removes its cgroup', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const tag = marker();
    const child = spawnChild(process.execPath, ['--import', 'tsx', FIXTURE, tag], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    assert.match(line.toString(), /^started \d+/);
    assert.ok(await until(() => hostPidsWith(tag).some((p) => p !== child.pid), 2000), 'the sleeper runs');
    const owner = `run-${child.pid}-`;
    const driver = detectCgroups().driver;
    assert.ok(
      driver?.list().some((n) => n.startsWith(owner)),
      'the run has a cgroup',
    );

    child.kill('SIGKILL');
    await once(child, 'exit');
    // bwrap dies with its parent and takes the pid namespace with it.
    assert.ok(
      await until(() => hostPidsWith(tag).length === 0, 3000),
      `survivors: ${hostPidsWith(tag).join(', ')}`,
    );

    const r = await run({ command: ['true'] });
    assert.equal(r.exitCode, 0);
    assert.deepEqual(
      driver?.list().filter((n) => n.startsWith(owner)),
      [],
      'the stale cgroup was collected',
    );
    assert.deepEqual(leftoverRunCgroups(), []);
  });

  it('kills the whole tree and frees the cgroup when the caller aborts', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const tag = marker();
    const ac = new AbortController();
    const pending = run(
      { command: ['sh', '-c', `python3 -c 'import time; time.sleep(600)' ${tag} & wait`] },
      { signal: ac.signal },
    );
    assert.ok(await until(() => hostPidsWith(tag).length > 0, 3000));
    ac.abort(new Error('enough'));
    await assert.rejects(pending, /enough/);
    assert.deepEqual(hostPidsWith(tag), []);
    assert.deepEqual(leftoverRunCgroups(), []);
  });
});
