import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError } from '../../../src/errors.js';
import { collect, fakeRuntime } from '../../helpers/fake-runtime.js';

type Env = ReturnType<typeof fakeRuntime>;
let env: Env | undefined;
function setup(options: Parameters<typeof fakeRuntime>[0] = {}): Env {
  env = fakeRuntime(options);
  return env;
}
afterEach(() => env?.cleanup());

const code = (err: unknown) => (err instanceof CorralError ? err.code : String(err));

describe('container lifecycle (fake driver)', () => {
  it('goes created → running → exited → removed and leaves nothing behind', async () => {
    const { rt, leftovers } = setup();
    const created = await rt.create('web', { command: ['serve', '--port'] });
    assert.equal(rt.state('web').status, 'created');
    const running = await created.start();
    assert.equal(rt.state('web').status, 'running');
    assert.equal(typeof running.pid, 'number');
    const exited = await running.stop({ grace: 1000 });
    assert.deepEqual(
      { ...exited.outcome, finishedAt: undefined },
      { exitCode: 143, signal: 'SIGTERM', reason: 'signal', finishedAt: undefined },
    );
    await exited.remove();
    assert.throws(
      () => rt.state('web'),
      (e) => code(e) === 'E_NO_SUCH_CONTAINER',
    );
    assert.deepEqual(leftovers(), []);
  });

  it('treats a second stop, and a stop of a created container, as no-ops', async () => {
    const { rt } = setup();
    await rt.create('a', { command: ['x'] });
    await rt.stop('a');
    assert.equal(rt.state('a').status, 'created');
    await rt.start('a');
    await rt.stop('a', { grace: 100 });
    const first = rt.state('a');
    await rt.stop('a', { grace: 100 });
    assert.deepEqual(rt.state('a'), first);
  });

  it('sends SIGKILL after the grace period when the command ignores SIGTERM', async () => {
    const { rt } = setup({ program: (io) => io.onSignal(() => undefined) });
    await rt.create('stubborn', { command: ['x'] });
    await rt.start('stubborn');
    const t0 = performance.now();
    await rt.stop('stubborn', { grace: 150 });
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 140, `stopped after ${elapsed} ms, before the grace period`);
    const s = rt.state('stubborn');
    assert.equal(s.outcome?.signal, 'SIGKILL');
    assert.equal(s.outcome?.exitCode, 137);
  });

  it('refuses to remove a running container without force, and removes it with force', async () => {
    const { rt, leftovers } = setup();
    await rt.create('svc', { command: ['x'] });
    await rt.start('svc');
    await assert.rejects(
      rt.remove('svc'),
      (e) => code(e) === 'E_STATE' && /running/.test((e as Error).message),
    );
    assert.equal(rt.state('svc').status, 'running');
    await rt.remove('svc', { force: true });
    assert.deepEqual(leftovers(), []);
  });

  it('makes remove on a handle safe to call twice', async () => {
    const { rt } = setup();
    const c = await rt.create('twice', { command: ['x'] });
    await c.remove();
    await c.remove();
    await assert.rejects(rt.remove('twice'), (e) => code(e) === 'E_NO_SUCH_CONTAINER');
  });

  it('refuses to kill a created container and rejects unknown signal names', async () => {
    const { rt } = setup();
    await rt.create('k', { command: ['x'] });
    await assert.rejects(
      rt.kill('k', 'SIGTERM'),
      (e) => code(e) === 'E_STATE' && /not running \(created\)/.test(String(e)),
    );
    await rt.start('k');
    await assert.rejects(
      rt.kill('k', 'SIGBANANA'),
      (e) => code(e) === 'E_CONFIG' && /unknown signal/.test(String(e)),
    );
    assert.equal(rt.state('k').status, 'running');
  });

  it('delivers kill signals to the command and reports the death', async () => {
    const got: string[] = [];
    const { rt } = setup({
      program: (io) => io.onSignal((s) => (got.push(s), s === 'SIGUSR1' ? undefined : io.exit(3))),
    });
    await rt.create('k', { command: ['x'] });
    await rt.start('k');
    await rt.kill('k', 'usr1');
    await rt.kill('k', 15);
    const outcome = await rt.wait('k');
    assert.deepEqual(got, ['SIGUSR1', 'SIGTERM']);
    assert.equal(outcome.exitCode, 3);
    assert.equal(outcome.reason, 'exit');
  });

  it('does nothing when a running container is started again', async () => {
    const { rt, driver } = setup();
    await rt.create('r', { command: ['x'] });
    await rt.start('r');
    const launches = driver.launcher.launches.length;
    await rt.start('r');
    assert.equal(driver.launcher.launches.length, launches);
    assert.equal(rt.state('r').status, 'running');
  });

  it('resolves wait after the command exits, and again at once when called later', async () => {
    const { rt } = setup({
      program: async (io) => {
        await sleep(50);
        io.exit(7);
      },
    });
    await rt.create('w', { command: ['x'] });
    const waiting = rt.wait('w');
    await rt.start('w');
    const outcome = await waiting;
    assert.equal(outcome.exitCode, 7);
    assert.equal(outcome.reason, 'exit');
    assert.ok(outcome.finishedAt && !Number.isNaN(Date.parse(outcome.finishedAt)));
    assert.deepEqual(await rt.wait('w'), outcome);
  });

  it('frees the run cgroup once an exit has been observed', async () => {
    const { rt, driver } = setup({ program: (io) => io.exit(0) });
    await rt.create('f', { command: ['x'] });
    await rt.start('f');
    await rt.wait('f');
    assert.deepEqual([...driver.cgroups], []);
  });

  it('reports a wall-clock timeout as reason timeout', async () => {
    const { rt } = setup();
    await rt.create('slow', { command: ['x'], limits: { timeout: '80ms' } });
    await rt.start('slow');
    const outcome = await rt.wait('slow');
    assert.equal(outcome.reason, 'timeout');
    assert.equal(outcome.signal, 'SIGKILL');
  });

  it('reports an OOM kill as reason memory', async () => {
    const { rt, driver } = setup();
    await rt.create('hog', { command: ['x'], limits: { memory: '8Mi' } });
    await rt.start('hog');
    driver.oom.add(rt.inspect('hog').cgroup as string);
    await rt.kill('hog', 'SIGKILL');
    assert.equal((await rt.wait('hog')).reason, 'memory');
  });

  it('starts an exited container again and keeps appending to its logs', async () => {
    const { rt } = setup({ program: (io) => (io.stdout('run'), io.exit(0)) });
    await rt.create('again', { command: ['x'] });
    await rt.start('again');
    await rt.wait('again');
    await rt.start('again');
    await rt.wait('again');
    const lines = await collect(rt.logs('again'));
    assert.deepEqual(
      lines.map((l) => l.text),
      ['run', 'run'],
    );
  });

  it('passes the reserved port as PORT and CORRAL_PORT and shows it in inspect', async () => {
    let seen: Record<string, string> = {};
    const { rt } = setup({ program: (io) => void (seen = { ...io.env }) });
    const c = await rt.create('p', { command: ['x'] });
    const port = c.port;
    assert.ok(typeof port === 'number' && port > 0);
    await rt.start('p');
    assert.equal(seen.PORT, String(port));
    assert.equal(seen.CORRAL_PORT, String(port));
    assert.equal(rt.port('p'), port);
    assert.equal(rt.ip('p'), null);
  });

  it('holds the port with a process from create until the moment the command is released', async () => {
    const { rt, driver } = setup();
    await rt.create('h', { command: ['x'] });
    const holders = driver.launcher.launches.filter((l) => l.file === 'sleep');
    assert.equal(holders.length, 1);
    assert.equal(driver.liveProcesses().length, 1);
    await rt.start('h');
    const killed = driver.launcher.signals.filter((s) => s.signal === 'SIGKILL');
    assert.equal(killed.length, 1, 'the port holder was killed at start');
  });

  it('runs exec in a running container and refuses it otherwise', async () => {
    const { rt } = setup({ exec: (cmd) => ({ stdout: `ran ${cmd.join(' ')}\n`, exitCode: 4 }) });
    await rt.create('e', { command: ['x'] });
    await assert.rejects(rt.exec('e', ['ls']), (e) => code(e) === 'E_STATE');
    await rt.start('e');
    const r = await rt.exec('e', ['ls', '-l']);
    assert.deepEqual(r, { exitCode: 4, signal: null, stdout: 'ran ls -l\n', stderr: '' });
    await assert.rejects(rt.exec('e', []), (e) => code(e) === 'E_CONFIG');
  });

  it('unmounts an image container’s overlay when it is removed', async () => {
    const { rt, driver, dataDir } = setup();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(`${dataDir}/src`);
    writeFileSync(`${dataDir}/src/hello`, 'hi');
    await rt.importImage(`${dataDir}/src`, 'base');
    await rt.create('img', { command: ['x'] }, { image: 'base' });
    assert.equal(rt.inspect('img').rootfs.mode, 'overlay');
    assert.equal(driver.mounts.size, 1);
    assert.throws(() => rt.removeImage('base'), /used by container\(s\) img/);
    await rt.remove('img');
    assert.equal(driver.mounts.size, 0);
    rt.removeImage('base');
    assert.deepEqual(rt.images(), []);
  });

  it('rolls a failed start back to created, with nothing left running', async () => {
    const { rt, driver } = setup({ failStart: true });
    await rt.create('bad', { command: ['x'] });
    await assert.rejects(rt.start('bad'), /setup failed/);
    assert.equal(rt.state('bad').status, 'created');
    assert.equal(driver.cgroups.size, 0);
    assert.equal(driver.liveProcesses().length, 1, 'only the port holder, still keeping the port');
  });
});
