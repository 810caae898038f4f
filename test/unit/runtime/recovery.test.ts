import assert from 'node:assert/strict';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { CorralError } from '../../../src/errors.js';
import type { StateFile } from '../../../src/runtime/types.js';
import { fakeRuntime } from '../../helpers/fake-runtime.js';

type Env = ReturnType<typeof fakeRuntime>;
let env: Env | undefined;
afterEach(() => env?.cleanup());
const code = (err: unknown) => (err instanceof CorralError ? err.code : String(err));

function stateFile(e: Env, name: string): string {
  return path.join(e.dataDir, 'containers', name, 'state.json');
}
function readState(e: Env, name: string): StateFile {
  return JSON.parse(readFileSync(stateFile(e, name), 'utf8')) as StateFile;
}
function writeState(e: Env, name: string, s: StateFile): void {
  writeFileSync(stateFile(e, name), JSON.stringify(s));
}

// A corral process killed mid-operation leaves exactly the files it had written; these tests
// recreate those files (the real SIGKILL tests are in test/integration/runtime).
describe('crash recovery (fake driver)', () => {
  it('shows a creation cut short as broken, and rm cleans it up with its port holder', async () => {
    env = fakeRuntime();
    const { rt, dataDir, leftovers } = env;
    await rt.create('half', { command: ['x'] });
    const s = readState(env, 'half');
    writeState(env, 'half', {
      status: 'creating',
      port: s.port,
      ...(s.portHolder && { portHolder: s.portHolder }),
    });
    unlinkSync(path.join(dataDir, 'containers', 'half', 'container.json'));
    const view = rt.state('half');
    assert.equal(view.status, 'broken');
    assert.match(view.problem ?? '', /creation was interrupted.*corral rm half/);
    await assert.rejects(rt.create('half', { command: ['x'] }), (e) => code(e) === 'E_EXISTS');
    await rt.remove('half');
    assert.deepEqual(leftovers(), []);
  });

  it('shows a start cut short before the command ran as broken, and start recovers it', async () => {
    env = fakeRuntime();
    const { rt } = env;
    await rt.create('s', { command: ['x'] });
    const s = readState(env, 's');
    writeState(env, 's', {
      ...s,
      status: 'starting',
      previous: 'created',
      run: { id: 'dead1', cgroup: 'ctr-s-dead1' },
    });
    assert.equal(rt.state('s').status, 'broken');
    await rt.start('s');
    assert.equal(rt.state('s').status, 'running');
  });

  it('adopts a start cut short after the command was released: it is running with its limits', async () => {
    env = fakeRuntime();
    const { rt } = env;
    await rt.create('a', { command: ['x'] });
    await rt.start('a');
    const s = readState(env, 'a');
    writeState(env, 'a', { ...s, status: 'starting', previous: 'created' });
    assert.equal(rt.state('a').status, 'running');
    await rt.stop('a', { grace: 100 });
    assert.equal(rt.state('a').outcome?.signal, 'SIGTERM');
  });

  it('keeps the outcome of a command that ran and ended after its start was cut short', async () => {
    env = fakeRuntime({ program: (io) => io.exit(5) });
    const { rt } = env;
    await rt.create('quick', { command: ['x'] });
    await rt.start('quick');
    const s = readState(env, 'quick');
    writeState(env, 'quick', { ...s, status: 'starting', previous: 'created' });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(rt.state('quick').outcome?.exitCode, 5);
    await rt.start('quick');
    assert.equal((await rt.wait('quick')).exitCode, 5);
  });

  it('shows a removal cut short as broken, and a second rm finishes it', async () => {
    env = fakeRuntime();
    const { rt, leftovers } = env;
    await rt.create('r', { command: ['x'] });
    await rt.start('r');
    const s = readState(env, 'r');
    writeState(env, 'r', { ...s, status: 'removing' });
    assert.match(rt.state('r').problem ?? '', /removal was interrupted/);
    await rt.remove('r');
    assert.deepEqual(leftovers(), []);
  });

  it('reports a container whose supervisor vanished (host restart) as exited for an unknown reason', async () => {
    env = fakeRuntime();
    const { rt } = env;
    await rt.create('gone', { command: ['x'] });
    await rt.start('gone');
    const s = readState(env, 'gone');
    writeState(env, 'gone', { ...s, run: { ...s.run!, bwrap: { pid: 99_999_999, start: '1' } } });
    const view = rt.state('gone');
    assert.equal(view.status, 'exited');
    assert.deepEqual(view.outcome, { exitCode: null, signal: null, reason: 'unknown', finishedAt: null });
  });

  it('says a corrupt state file is corrupt and how to get rid of the container', async () => {
    env = fakeRuntime();
    const { rt } = env;
    await rt.create('bad', { command: ['x'] });
    writeFileSync(stateFile(env, 'bad'), '{"status": "run');
    assert.throws(
      () => rt.state('bad'),
      /state.json is corrupt; remove the container with: corral rm -f bad/,
    );
  });
});

describe('concurrent operations (fake driver)', () => {
  it('lets exactly one of two simultaneous creates of a name succeed', async () => {
    env = fakeRuntime();
    const { rt } = env;
    const results = await Promise.allSettled([
      rt.create('dup', { command: ['a'] }),
      rt.create('dup', { command: ['b'] }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const failed = results.find((r) => r.status === 'rejected');
    assert.equal(code(failed?.reason), 'E_EXISTS');
  });

  it('serialises interleaved starts, stops and kills of one container without corrupting it', async () => {
    env = fakeRuntime();
    const { rt, leftovers } = env;
    await rt.create('busy', { command: ['x'] });
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 8; i++) {
      ops.push(rt.start('busy'));
      ops.push(rt.stop('busy', { grace: 50 }));
      ops.push(rt.kill('busy', 'SIGTERM').catch(() => undefined));
    }
    const settled = await Promise.allSettled(ops);
    assert.deepEqual(
      settled.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      [],
    );
    const final = rt.state('busy').status;
    assert.ok(final === 'running' || final === 'exited', final);
    const s = readState(env, 'busy');
    assert.ok(['running', 'exited'].includes(s.status));
    await rt.remove('busy', { force: true });
    assert.deepEqual(leftovers(), []);
  });

  it('removes many containers in parallel and leaves nothing', async () => {
    env = fakeRuntime();
    const { rt, leftovers } = env;
    const names = Array.from({ length: 12 }, (_, i) => `c${i}`);
    await Promise.all(names.map((n) => rt.create(n, { command: ['x'] }).then((c) => c.start())));
    assert.equal(rt.list().filter((c) => c.state.status === 'running').length, 12);
    await Promise.all(names.map((n) => rt.remove(n, { force: true })));
    assert.deepEqual(leftovers(), []);
  });
});
