import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cgroupsMissing, linuxSandboxMissing, marker } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import { hostRuntime, minimalRootfs, tempDir } from '../../helpers/runtime-host.js';

describe('lifecycle at scale (real kernel)', () => {
  let env: ReturnType<typeof hostRuntime>;
  before(() => {
    env = hostRuntime();
  });
  after(() => env.cleanup());

  it('creates, starts, stops and removes 50 containers, leaving no process, cgroup, mount or dir', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const { rt } = env;
    const tag = marker();
    await rt.importImage(minimalRootfs(tempDir('corral-img-')), `img-${process.pid}`);
    const names = Array.from({ length: 50 }, (_, i) => `many-${i}`);
    const t0 = performance.now();
    // Ten at a time: several corral operations in flight, as from several terminals.
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map(async (name, j) => {
          // Every fifth container runs on an overlay of the image, the rest on the host root.
          const onImage = (i + j) % 5 === 0;
          await rt.create(
            name,
            {
              command: ['sh', '-c', `echo ready; exec sleep 600 # ${tag}`],
              limits: { memory: '32Mi', pids: 16 },
            },
            onImage ? { image: `img-${process.pid}` } : {},
          );
        }),
      );
    }
    // Reserved from create until start: no two created containers share a port.
    assert.equal(
      new Set(rt.list().map((c) => c.port)).size,
      50,
      'every created container holds its own port',
    );
    for (let i = 0; i < names.length; i += 10)
      await Promise.all(names.slice(i, i + 10).map((n) => rt.start(n)));
    const running = rt.list().filter((c) => c.state.status === 'running');
    assert.equal(running.length, 50);
    assert.ok(
      env.leftovers(tag).some((l) => l.startsWith('mount ')),
      'image containers are overlay mounts',
    );
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map(async (name) => {
          await rt.stop(name, { grace: 2000 });
          assert.equal(rt.state(name).outcome?.signal, 'SIGTERM');
          await rt.remove(name);
        }),
      );
    }
    const ms = performance.now() - t0;
    assert.deepEqual(env.leftovers(tag), []);
    rt.removeImage(`img-${process.pid}`);
    t.diagnostic(`50 containers created, started, stopped and removed in ${Math.round(ms)} ms`);
  });
});
