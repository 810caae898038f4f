import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { main } from '../../../src/cli/program.js';
import { statusText } from '../../../src/cli/format/status.js';
import { fakeRuntime } from '../../helpers/fake-runtime.js';

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

describe('lifecycle CLI verbs (fake driver)', () => {
  it('creates, lists, starts, stops and removes a container with docker-like output', async () => {
    env = fakeRuntime({ exec: () => ({ stdout: 'inside\n', exitCode: 3 }) });
    assert.deepEqual(await cli(env, ['create', '--name', 'web', '--memory', '64Mi', '--', 'serve', '-v']), {
      code: 0,
      stdout: 'web\n',
      stderr: '',
    });
    const ps = await cli(env, ['ps', '-a']);
    assert.match(ps.stdout, /^NAME +STATUS +PORT +CREATED +COMMAND\nweb +Created +\d+ /);
    assert.equal(
      (await cli(env, ['ps'])).stdout,
      'NAME   STATUS   PORT   CREATED   COMMAND\n',
      'ps without -a shows running only',
    );
    assert.equal((await cli(env, ['start', 'web'])).stdout, 'web\n');
    assert.match((await cli(env, ['ps'])).stdout, /web +Up /);
    assert.equal((await cli(env, ['logs', 'web'])).stdout, 'serve -v\n');
    assert.equal((await cli(env, ['exec', 'web', '--', 'ls'])).code, 3);
    assert.equal((await cli(env, ['stop', '-t', '1', 'web'])).code, 0);
    assert.match((await cli(env, ['ps', '-a'])).stdout, /web +Exited \(143\) /);
    assert.equal((await cli(env, ['wait', 'web'])).stdout, '143\n');
    const inspect = JSON.parse((await cli(env, ['inspect', 'web'])).stdout) as { name: string }[];
    assert.equal(inspect[0]?.name, 'web');
    assert.equal((await cli(env, ['rm', 'web'])).code, 0);
    assert.equal((await cli(env, ['ps', '-a', '-q'])).stdout, '');
  });

  it('exits 125 with one clear line for an unknown container, a bad signal, a bad name', async () => {
    env = fakeRuntime();
    const unknown = await cli(env, ['stop', 'ghost']);
    assert.equal(unknown.code, 125);
    assert.equal(unknown.stderr, 'corral: no such container: ghost\n');
    await cli(env, ['create', '--name', 'k', '--', 'x']);
    const sig = await cli(env, ['kill', '-s', 'SIGNOPE', 'k']);
    assert.equal(sig.code, 125);
    assert.match(sig.stderr, /unknown signal: "SIGNOPE"/);
    const notRunning = await cli(env, ['kill', 'k']);
    assert.equal(notRunning.code, 125);
    assert.match(notRunning.stderr, /cannot kill k: it is not running \(created\)/);
    const badName = await cli(env, ['create', '--name', '../etc', '--', 'x']);
    assert.equal(badName.code, 125);
    assert.match(badName.stderr, /container name may hold only/);
  });

  it('keeps going through a list of names and reports each failure', async () => {
    env = fakeRuntime();
    await cli(env, ['create', '--name', 'a', '--', 'x']);
    await cli(env, ['create', '--name', 'b', '--', 'x']);
    const r = await cli(env, ['rm', 'a', 'nope', 'b']);
    assert.equal(r.code, 125);
    assert.equal(r.stdout, 'a\nb\n');
    assert.equal(r.stderr, 'corral: no such container: nope\n');
  });

  it('starts a detached container with run -d and prints its name', async () => {
    env = fakeRuntime();
    const r = await cli(env, ['run', '-d', '--name', 'bg', '--', 'serve']);
    assert.deepEqual(r, { code: 0, stdout: 'bg\n', stderr: '' });
    assert.equal(env.rt.state('bg').status, 'running');
    const gen = await cli(env, ['run', '-d', '--', 'serve']);
    assert.match(gen.stdout, /^c-[a-z0-9]+\n$/);
  });

  it('marks lines without a recorded time when --timestamps is asked for, and says why', async () => {
    env = fakeRuntime({ program: (io) => (io.stdout('hello'), io.exit(0)) });
    await cli(env, ['run', '-d', '--name', 't', '--', 'x']);
    await env.rt.wait('t');
    const r = await cli(env, ['logs', '-t', 't']);
    assert.equal(r.stdout, '- hello\n');
    assert.match(r.stderr, /1 line\(s\) shown with "-": their write time was not recorded/);
  });

  it('prints a stats table once with --no-stream', async () => {
    env = fakeRuntime();
    await cli(env, ['run', '-d', '--name', 's', '--', 'x']);
    const r = await cli(env, ['stats', '--no-stream']);
    assert.match(
      r.stdout,
      /^NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +PEAK +PIDS\ns +\d+\.\d% +1Mi \/ unlimited +- +2Mi +1\n$/,
    );
  });
});

describe('ps status column', () => {
  it('reads like docker: Up, Exited (code) ago, with the limit that ended a run', () => {
    const now = Date.parse('2024-01-01T00:10:00Z');
    assert.equal(statusText({ status: 'running', startedAt: '2024-01-01T00:05:00Z' }, now), 'Up 5 minutes');
    assert.equal(
      statusText(
        {
          status: 'exited',
          outcome: { exitCode: 137, signal: 'SIGKILL', reason: 'memory', finishedAt: '2024-01-01T00:09:58Z' },
        },
        now,
      ),
      'Exited (137, memory) 2 seconds ago',
    );
    assert.equal(statusText({ status: 'broken', problem: 'x' }, now), 'Broken');
    assert.equal(statusText({ status: 'created' }, now), 'Created');
  });
});
