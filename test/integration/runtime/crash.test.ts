import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerInfo } from '../../../src/runtime/types.js';
import {
  cgroupsMissing,
  corral,
  linuxSandboxMissing,
  marker,
  sandboxWritableDir,
} from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import { hostRuntime, minimalRootfs, tempDir } from '../../helpers/runtime-host.js';

// Each test SIGKILLs the CLI at a named point of an operation (CORRAL_FAILPOINTS), the way an
// OOM kill or a closed terminal's SIGKILL would, then checks what the next command sees.
describe('corral killed with SIGKILL in the middle of an operation (real kernel)', () => {
  let env: ReturnType<typeof hostRuntime>;
  let tag: string;
  const cli = (args: string[], failpoint?: string) =>
    corral(args, {
      env: { CORRAL_DATA_DIR: env.dataDir, ...(failpoint && { CORRAL_FAILPOINTS: failpoint }) },
    });
  const ps = async (): Promise<ContainerInfo[]> =>
    JSON.parse((await cli(['ps', '-a', '--json'])).stdout) as ContainerInfo[];
  const view = async (name: string) => (await ps()).find((c) => c.name === name)?.state;
  before(() => {
    env = hostRuntime();
    tag = marker();
  });
  after(() => env.cleanup());

  it('during create: the next command shows it broken and says how to clean up; rm leaves nothing', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    await env.rt.importImage(minimalRootfs(tempDir('corral-img-')), 'crashimg');
    for (const point of ['create:claimed', 'create:rootfs']) {
      const killed = await cli(
        ['create', '--name', 'c1', '--image', 'crashimg', '--', 'sh', '-c', `sleep 1 # ${tag}`],
        point,
      );
      assert.equal(killed.code, null, `killed at ${point}: ${killed.stderr}`);
      const s = await view('c1');
      assert.equal(s?.status, 'broken', point);
      assert.match(s?.problem ?? '', /creation was interrupted.*corral rm c1/);
      const again = await cli(['create', '--name', 'c1', '--', 'true']);
      assert.equal(again.code, 125);
      assert.match(again.stderr, /exists already \(remove it with: corral rm c1\)/);
      assert.equal((await cli(['rm', 'c1'])).code, 0);
      assert.deepEqual(env.leftovers(tag), [], point);
    }
  });

  it('during start, before the command ran: it never runs unlimited, and start recovers it', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const dir = sandboxWritableDir();
    const proof = path.join(dir, 'ran');
    for (const point of ['start:recorded', 'start:ready']) {
      rmSync(proof, { force: true });
      assert.equal(
        (
          await cli([
            'create',
            '--name',
            's1',
            '--rw',
            dir,
            '--memory',
            '32Mi',
            '--',
            'sh',
            '-c',
            `touch ${proof}; exec sleep 600 # ${tag}`,
          ])
        ).code,
        0,
      );
      const killed = await cli(['start', 's1'], point);
      assert.equal(killed.code, null, `killed at ${point}`);
      await sleep(300);
      // The init waits on a FIFO that bubblewrap itself holds open: no EOF, so no exec.
      assert.equal(existsSync(proof), false, `the command ran after corral died at ${point}`);
      const s = await view('s1');
      assert.equal(s?.status, 'broken', point);
      assert.match(s?.problem ?? '', /start was interrupted/);
      const started = await cli(['start', 's1']);
      assert.equal(started.code, 0, started.stderr);
      assert.equal((await view('s1'))?.status, 'running');
      await sleep(200);
      assert.ok(existsSync(proof));
      assert.equal((await cli(['rm', '-f', 's1'])).code, 0);
      assert.deepEqual(env.leftovers(tag), []);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('during start, after the command was released: the next command sees it running and can stop it', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    assert.equal(
      (await cli(['create', '--name', 's2', '--memory', '32Mi', '--', 'sh', '-c', `exec sleep 600 # ${tag}`]))
        .code,
      0,
    );
    assert.equal((await cli(['start', 's2'], 'start:released')).code, null);
    const s = await view('s2');
    assert.equal(s?.status, 'running');
    const info = (await ps()).find((c) => c.name === 's2');
    assert.equal(
      info?.limits.memory?.enforcement,
      'kernel',
      'the limits were recorded before the command was released',
    );
    assert.equal((await cli(['stop', '-t', '1', 's2'])).code, 0);
    assert.equal((await view('s2'))?.outcome?.signal, 'SIGTERM');
    assert.equal((await cli(['rm', 's2'])).code, 0);
    assert.deepEqual(env.leftovers(tag), []);
  });

  it('during stop: the next command sees what really happened, and stop can be repeated', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    // This one ignores SIGTERM: after the SIGKILLed stop it is still running.
    const cmd = `trap "" TERM; while :; do sleep 0.1; done # ${tag}`;
    assert.equal((await cli(['run', '-d', '--name', 'st', '--', 'sh', '-c', cmd])).code, 0);
    assert.equal((await cli(['stop', '-t', '5', 'st'], 'stop:signalled')).code, null);
    assert.equal((await view('st'))?.status, 'running');
    const t0 = performance.now();
    assert.equal((await cli(['stop', '-t', '1', 'st'])).code, 0);
    assert.ok(performance.now() - t0 < 4000);
    const s = await view('st');
    assert.equal(s?.status, 'exited');
    assert.equal(s?.outcome?.signal, 'SIGKILL');
    assert.equal((await cli(['rm', 'st'])).code, 0);
    assert.deepEqual(env.leftovers(tag), []);
  });

  it('during rm: the next command shows the removal unfinished, and rm finishes it', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    assert.equal(
      (
        await cli([
          'run',
          '-d',
          '--name',
          'r1',
          '--image',
          'crashimg',
          '--',
          'sh',
          '-c',
          `exec sleep 600 # ${tag}`,
        ])
      ).code,
      0,
    );
    assert.equal((await cli(['rm', '-f', 'r1'], 'remove:marked')).code, null);
    const s = await view('r1');
    assert.equal(s?.status, 'broken');
    assert.match(s?.problem ?? '', /removal was interrupted.*corral rm r1/);
    assert.equal((await cli(['rm', 'r1'])).code, 0);
    assert.deepEqual(env.leftovers(tag), []);
  });

  it('at random moments of run -d: every container left is in a state the next command handles', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const { spawn } = await import('node:child_process');
    const cliPath = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');
    for (let i = 0; i < 8; i++) {
      const p = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--',
          cliPath,
          'run',
          '-d',
          '--name',
          `rnd${i}`,
          '--',
          'sh',
          '-c',
          `exec sleep 600 # ${tag}`,
        ],
        {
          env: { ...process.env, CORRAL_DATA_DIR: env.dataDir },
          stdio: 'ignore',
        },
      );
      const closed = new Promise((r) => p.once('close', r));
      // tsx needs ~300 ms to load; kill somewhere in the operation that follows.
      await sleep(300 + Math.random() * 250);
      p.kill('SIGKILL');
      await closed;
    }
    const seen: string[] = [];
    for (const c of await ps()) {
      seen.push(c.state.status);
      assert.ok(['created', 'running', 'broken'].includes(c.state.status), `${c.name}: ${c.state.status}`);
      const r = await cli(['rm', '-f', c.name]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual(env.leftovers(tag), []);
    t.diagnostic(`states left by 8 randomly killed run -d: ${seen.join(', ') || 'none'}`);
  });
});
