import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cgroupsMissing, corral, linuxSandboxMissing, marker } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import { hostRuntime } from '../../helpers/runtime-host.js';

describe('several corral processes on one container at once (real kernel)', () => {
  let env: ReturnType<typeof hostRuntime>;
  before(() => {
    env = hostRuntime();
  });
  after(() => env.cleanup());

  it('serialises their operations: every one ends cleanly and the container stays consistent', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const tag = marker();
    const e = { env: { CORRAL_DATA_DIR: env.dataDir } };
    assert.equal(
      (await corral(['create', '--name', 'shared', '--', 'sh', '-c', `exec sleep 600 # ${tag}`], e)).code,
      0,
    );
    const ops = [
      ['start', 'shared'],
      ['stop', '-t', '1', 'shared'],
      ['start', 'shared'],
      ['kill', '-s', 'TERM', 'shared'],
      ['start', 'shared'],
      ['stop', '-t', '1', 'shared'],
      ['start', 'shared'],
    ];
    const results = await Promise.all(ops.map((args) => corral(args, e)));
    results.forEach((r, i) => {
      const ok = r.code === 0 || (ops[i]?.[0] === 'kill' && /not running/.test(r.stderr));
      assert.ok(ok, `${ops[i]?.join(' ')} → ${r.code}: ${r.stderr}`);
    });
    const state = JSON.parse(
      readFileSync(path.join(env.dataDir, 'containers', 'shared', 'state.json'), 'utf8'),
    ) as {
      status: string;
    };
    assert.ok(['running', 'exited'].includes(state.status), state.status);
    assert.ok(['running', 'exited'].includes(env.rt.state('shared').status));
    assert.equal((await corral(['rm', '-f', 'shared'], e)).code, 0);
    assert.deepEqual(env.leftovers(tag), []);
  });
});
