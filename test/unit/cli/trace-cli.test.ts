import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../../../src/cli/program.js';
import type { TraceRecord } from '../../../src/trace/record.js';
import type { ContainerInfo } from '../../../src/runtime/types.js';
import { fakeRuntime, collect } from '../../helpers/fake-runtime.js';

type Env = ReturnType<typeof fakeRuntime>;
let env: Env | undefined;
afterEach(() => env?.cleanup());

async function cli(e: Env, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await main(args, { io: { stdout: out, stderr: err, env: {}, cwd: '/' }, runtime: e.rt });
  return { code, stdout, stderr };
}

const records = (jsonl: string) =>
  jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TraceRecord);
const execs = (rs: TraceRecord[]) =>
  rs.flatMap((r) => (r.type === 'exec' ? [[r.command, ...(r.args ?? [])]] : []));

describe('traced containers and corral trace (fake driver)', () => {
  it('create --trace records the command and exec’d commands; trace shows them for people, --json as records', async () => {
    env = fakeRuntime();
    assert.equal((await cli(env, ['create', '--trace', '--name', 't', '--', 'serve', '-v'])).code, 0);
    assert.equal((await cli(env, ['start', 't'])).code, 0);
    assert.equal((await cli(env, ['exec', 't', '--', 'ls', '-la'])).code, 0);
    const [info] = JSON.parse((await cli(env, ['inspect', 't'])).stdout) as ContainerInfo[];
    assert.equal(info?.trace?.file, `${env.dataDir}/containers/t/trace.jsonl`);
    assert.equal(info?.trace?.backend, 'fake');
    assert.equal(typeof info?.trace?.recorderPid, 'number', 'the recorder runs with the container');
    assert.equal((await cli(env, ['stop', '-t', '0', 't'])).code, 0);

    const json = await cli(env, ['trace', 't', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const rs = records(json.stdout);
    assert.deepEqual(
      rs.map((r) => r.type),
      ['start', 'exec', 'exec', 'exit', 'exit', 'end'],
    );
    assert.deepEqual(execs(rs), [
      ['serve', '-v'],
      ['ls', '-la'],
    ]);
    assert.ok(rs.every((r) => r.sandbox === 't'));

    const human = await cli(env, ['trace', 't', '--utc']);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^\d\d:\d\d:\d\d\.\d{3} trace of t started \(backend fake, init pid \d+\)\n/);
    assert.match(human.stdout, /exec +\d+ <- \d+ +serve -v {2}cwd=\/\n/);
    assert.match(human.stdout, /trace of t ended: 2 execs, 0 forks, 2 exits\n$/);
    assert.equal(JSON.parse((await cli(env, ['inspect', 't'])).stdout)[0].trace.recorderPid, null);
  });

  it('run -d --trace traces the container; a restart appends a second section; rm leaves no recorder', async () => {
    env = fakeRuntime();
    assert.deepEqual(await cli(env, ['run', '-d', '--trace', '--name', 'bg', '--', 'serve']), {
      code: 0,
      stdout: 'bg\n',
      stderr: '',
    });
    await cli(env, ['stop', '-t', '0', 'bg']);
    await cli(env, ['start', 'bg']);
    const rs = records((await cli(env, ['trace', 'bg', '--json'])).stdout);
    assert.deepEqual(
      rs.filter((r) => r.type === 'start' || r.type === 'end').map((r) => r.type),
      ['start', 'end', 'start'],
    );
    assert.equal((await cli(env, ['rm', '-f', 'bg'])).code, 0);
    assert.deepEqual(env.leftovers(), [], 'no recorder (nor anything else) is left');
  });

  it('trace -f prints events written after it started and ends when the container ends', async () => {
    env = fakeRuntime();
    await cli(env, ['run', '-d', '--trace', '--name', 'f', '--', 'serve']);
    const following = cli(env, ['trace', '-f', '--json', 'f']);
    await sleep(100);
    await env.rt.exec('f', ['make', 'all']);
    await sleep(100);
    await env.rt.stop('f', { grace: 0 });
    const r = await following;
    assert.equal(r.code, 0, r.stderr);
    const rs = records(r.stdout);
    assert.deepEqual(execs(rs), [['serve'], ['make', 'all']]);
    assert.equal(rs.at(-1)?.type, 'end');
  });

  it('the library reads the same records, and a follow ends when the container is removed', async () => {
    env = fakeRuntime();
    const c = await env.rt.create('lib', { command: ['serve'] }, { trace: true });
    await c.start();
    const following = collect(env.rt.trace('lib', { follow: true, pollMs: 20 }));
    await sleep(50);
    await env.rt.remove('lib', { force: true });
    const rs = await following;
    assert.equal(rs[0]?.type, 'start');
    assert.deepEqual(execs(rs), [['serve']]);
  });

  it('refuses clearly (exit 125): an unknown container, an untraced one (saying how), a file for run -d --trace', async () => {
    env = fakeRuntime();
    const unknown = await cli(env, ['trace', 'ghost']);
    assert.deepEqual(unknown, { code: 125, stdout: '', stderr: 'corral: no such container: ghost\n' });
    await cli(env, ['create', '--name', 'plain', '--', 'x']);
    const plain = await cli(env, ['trace', '-f', 'plain']);
    assert.equal(plain.code, 125);
    assert.match(plain.stderr, /^corral: container plain is not traced: .*create it with --trace/);
    assert.equal(JSON.parse((await cli(env, ['inspect', 'plain'])).stdout)[0].trace, null);
    const file = await cli(env, ['run', '-d', '--trace=out.jsonl', '--', 'x']);
    assert.equal(file.code, 125);
    assert.match(
      file.stderr,
      /run -d --trace=out\.jsonl: a container keeps its trace in its own trace\.jsonl/,
    );
    await assert.rejects(
      env.rt.create('bad', { command: ['x'] }, { trace: 'yes' as unknown as boolean }),
      /trace must be true, false or \{ backend \}/,
    );
  });

  it('refuses to create a traced container (exit 125, nothing left) on a host that cannot trace', async () => {
    env = fakeRuntime({ traceUnavailable: 'the proc connector needs root' });
    for (const args of [
      ['create', '--trace', '--name', 'n', '--', 'x'],
      ['run', '-d', '--trace', '--name', 'n', '--', 'x'],
    ]) {
      const r = await cli(env, args);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(
        r.stderr,
        /^corral: cannot trace containers on this host: the proc connector needs root; fix: /,
      );
    }
    assert.deepEqual(env.leftovers(), []);
  });

  it('says on stderr when a traced container has not been started yet, and shows nothing', async () => {
    env = fakeRuntime();
    await cli(env, ['create', '--trace', '--name', 'new', '--', 'x']);
    for (const args of [
      ['trace', 'new'],
      ['trace', '-f', 'new'],
    ]) {
      const r = await cli(env, args);
      assert.deepEqual(r, {
        code: 0,
        stdout: '',
        stderr: 'corral: new has not been started yet: its trace begins at its first start\n',
      });
    }
  });
});
