import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeProgramIO } from '../../../src/runtime/fake-driver.js';
import { collect, fakeRuntime } from '../../helpers/fake-runtime.js';

type Env = ReturnType<typeof fakeRuntime>;
let env: Env | undefined;
afterEach(() => env?.cleanup());

describe('container logs (fake driver)', () => {
  it('returns stdout lines, then stderr lines, each without its newline', async () => {
    env = fakeRuntime({
      program: (io) => (io.stdout('one'), io.stderr('oops'), io.stdout('two'), io.exit(0)),
    });
    await env.rt.create('l', { command: ['x'] });
    await env.rt.start('l');
    await env.rt.wait('l');
    assert.deepEqual(await collect(env.rt.logs('l')), [
      { stream: 'stdout', text: 'one' },
      { stream: 'stdout', text: 'two' },
      { stream: 'stderr', text: 'oops' },
    ]);
    assert.deepEqual(
      (await collect(env.rt.logs('l', { stream: 'stderr' }))).map((l) => l.text),
      ['oops'],
    );
  });

  it('gives the last N lines of each stream with tail, including a final line without newline', async () => {
    env = fakeRuntime({ program: (io) => io.exit(0) });
    await env.rt.create('t', { command: ['x'] });
    const file = path.join(env.dataDir, 'containers', 't', 'stdout.log');
    writeFileSync(file, Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n'));
    const tail = await collect(env.rt.logs('t', { tail: 3, stream: 'stdout' }));
    assert.deepEqual(
      tail.map((l) => l.text),
      ['line 4997', 'line 4998', 'line 4999'],
    );
    assert.deepEqual(await collect(env.rt.logs('t', { tail: 0, stream: 'stdout' })), []);
  });

  it('follows: receives lines written after it started, and ends when the container stops', async () => {
    let io!: FakeProgramIO;
    env = fakeRuntime({ program: (p) => void (io = p) });
    await env.rt.create('f', { command: ['x'] });
    await env.rt.start('f');
    io.stdout('before');
    const seen: string[] = [];
    const following = (async () => {
      for await (const l of env!.rt.logs('f', { follow: true })) seen.push(l.text);
    })();
    await sleep(50);
    io.stdout('after 1');
    await sleep(50);
    io.stdout('after 2');
    await sleep(300);
    assert.deepEqual(seen, ['before', 'after 1', 'after 2']);
    await env.rt.stop('f', { grace: 100 });
    await following;
  });

  it('attaches a time to each line only where a logger recorded one, and filters by since', async () => {
    env = fakeRuntime({ program: (io) => io.exit(0) });
    await env.rt.create('ts', { command: ['x'] });
    const file = path.join(env.dataDir, 'containers', 'ts', 'stdout.log');
    writeFileSync(file, 'a\nb\nc\n');
    // One chunk "a\nb\n" seen at t=1000 ms, then "c\n" at t=5000 ms.
    appendFileSync(`${file}.times`, '4 1000\n6 5000\n');
    const lines = await collect(env.rt.logs('ts', { stream: 'stdout' }));
    assert.deepEqual(
      lines.map((l) => [l.text, l.time]),
      [
        ['a', new Date(1000).toISOString()],
        ['b', new Date(1000).toISOString()],
        ['c', new Date(5000).toISOString()],
      ],
    );
    const since = await collect(env.rt.logs('ts', { stream: 'stdout', since: new Date(2000) }));
    assert.deepEqual(
      since.map((l) => l.text),
      ['c'],
    );
  });

  it('refuses --since on logs that have no timestamps rather than guess', async () => {
    env = fakeRuntime({ program: (io) => (io.stdout('x'), io.exit(0)) });
    await env.rt.create('n', { command: ['x'] });
    await env.rt.start('n');
    await env.rt.wait('n');
    await assert.rejects(collect(env.rt.logs('n', { since: new Date(0) })), /needs per-line timestamps/);
  });
});
