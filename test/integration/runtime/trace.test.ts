import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { descendantsOf } from '../../../src/platform/linux/proc-tree.js';
import type { TraceRecord } from '../../../src/trace/record.js';
import { cgroupsMissing, corral, hostPidsWith } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import { hostRuntime } from '../../helpers/runtime-host.js';
import { ebpfMissing, procConnectorMissing } from '../../helpers/tracing.js';

const CLI = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');
const records = (jsonl: string) =>
  jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TraceRecord);
const execOf = (rs: TraceRecord[], command: string) =>
  rs.find((r): r is Extract<TraceRecord, { type: 'exec' }> => r.type === 'exec' && r.command === command);

async function until(ok: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const t0 = Date.now(); !ok(); await sleep(25))
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
}

describe('traced containers (real kernel)', () => {
  let env: ReturnType<typeof hostRuntime>;
  // In every container name, so on every recorder's title, and on the commands the containers run.
  const tag = `tr-${process.pid}`;
  let cli: { env: NodeJS.ProcessEnv };
  const missing = async () => (await procConnectorMissing()) ?? cgroupsMissing();
  before(() => {
    env = hostRuntime('corral-trace-it-');
    cli = { env: { CORRAL_DATA_DIR: env.dataDir } };
  });
  after(() => env.cleanup());

  it('shows the exec, fork and exit events of a script with children in corral trace NAME --json', async (t) => {
    if (!requireOrSkip(t, await missing())) return;
    const name = `${tag}-script`;
    const script = `/bin/echo "hello world" >/dev/null; (sleep 0.1; /bin/true) & wait; exit 3 # ${tag}`;
    const created = await corral(['create', '--trace', '--name', name, '--', 'sh', '-c', script], cli);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await corral(['start', name], cli)).code, 0);
    assert.equal((await env.rt.wait(name)).exitCode, 3);
    // The recorder writes its end record just after the init's exit.
    await until(() => env.rt.inspect(name).trace?.recorderPid === null, 'the recorder ended by itself');

    const json = await corral(['trace', name, '--json'], cli);
    assert.equal(json.code, 0, json.stderr);
    const rs = records(json.stdout);
    assert.equal(rs[0]?.type, 'start');
    assert.equal(rs.at(-1)?.type, 'end');
    const sh = execOf(rs, 'sh');
    assert.deepEqual(sh?.args, ['-c', script], 'the first exec, the command itself, is seen');
    assert.deepEqual(execOf(rs, '/bin/echo')?.args, ['hello world']);
    assert.ok(execOf(rs, 'sleep') && execOf(rs, '/bin/true'), 'the grandchildren of the subshell');
    const forks = rs.filter((r) => r.type === 'fork');
    assert.ok(forks.length >= 3, `forks: ${forks.length}`);
    assert.ok(rs.some((r) => r.type === 'exit' && r.pid === sh?.pid && r.exitCode === 3));
    assert.ok(rs.every((r) => r.sandbox === name));

    const human = await corral(['trace', name], cli);
    assert.equal(human.code, 0);
    // The best tracer this host has: eBPF where the kernel allows it, as on the test hosts.
    const backend = (await ebpfMissing()) === undefined ? 'ebpf' : 'proc-connector';
    assert.match(human.stdout, new RegExp(`trace of ${name} started \\(backend ${backend}`));
    assert.match(human.stdout, / exec +\d+ <- \d+ +\/bin\/echo 'hello world' {2}cwd=\/\n/);
    assert.match(human.stdout, / exit +\d+ +exit 3 {2}\(sh\)\n/);
    assert.equal((await corral(['rm', name], cli)).code, 0);
  });

  it('trace -f receives events written after it started, an exec’d command’s too, and ends when the container stops', async (t) => {
    if (!requireOrSkip(t, await missing())) return;
    const name = `${tag}-follow`;
    const run = await corral(
      ['run', '-d', '--trace', '--name', name, '--', 'sh', '-c', `sleep 600 # ${tag}`],
      cli,
    );
    assert.equal(run.code, 0, run.stderr);
    const follower = spawn(process.execPath, ['--import', 'tsx', '--', CLI, 'trace', '-f', '--json', name], {
      env: { ...process.env, ...cli.env },
    });
    let out = '';
    follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<number | null>((r) => follower.once('close', r));
    try {
      await until(() => out.includes('"command":"sleep"'), 'the follower printed what was there');
      const e = await env.rt.exec(name, ['sh', '-c', `/bin/echo "from exec" ${tag}; ls / >/dev/null`]);
      assert.equal(e.exitCode, 0, e.stderr);
      await until(() => out.includes('"command":"ls"'), 'the exec’d command reached the follower');
      await env.rt.stop(name, { grace: 1000 });
      assert.equal(await closed, 0, 'trace -f returns once the container has stopped');
    } finally {
      follower.kill();
    }
    const rs = records(out);
    assert.deepEqual(
      execOf(rs, '/bin/echo')?.args,
      ['from exec', tag],
      'the exec’d command, with its arguments',
    );
    const execs = rs.flatMap((r) => (r.type === 'exec' ? [r.exe ?? r.command] : []));
    const plumbing = execs.filter((c) => c !== null && /(prlimit|setpriv|nsenter|bwrap)$/.test(c));
    assert.deepEqual(plumbing, [], `corral exec's own way in is not in the trace: ${execs.join(', ')}`);
    const entry = rs.find((r) => r.type === 'exec' && r.args?.includes('corral-exec'));
    assert.equal(entry, undefined, 'nor is its status shell');
    assert.equal(rs.at(-1)?.type, 'end', 'the recorder wrote its end record on stop');
    assert.ok(rs.some((r) => r.type === 'exit' && r.command === 'sleep'));
    await env.rt.remove(name);
  });

  it('keeps the recorder after the CLI exits; stop ends it, a restart starts another, rm leaves none', async (t) => {
    if (!requireOrSkip(t, await missing())) return;
    const name = `${tag}-life`;
    const run = await corral(
      ['run', '-d', '--trace', '--name', name, '--', 'sh', '-c', `sleep 600 # ${tag}`],
      cli,
    );
    assert.equal(run.code, 0, run.stderr);
    const first = env.rt.inspect(name).trace;
    assert.ok(first?.recorderPid, 'the recorder runs on after the corral that started it exited');
    assert.deepEqual(hostPidsWith(`corral-trace-recorder ${name}`), [first.recorderPid]);
    assert.ok(
      env.leftovers(tag).some((l) => l.startsWith(`process ${first.recorderPid}`)),
      'the leftover census sees a recorder',
    );
    await env.rt.stop(name, { grace: 0 });
    assert.deepEqual(hostPidsWith(`corral-trace-recorder ${name}`), [], 'stop ends the recorder');
    await env.rt.start(name);
    const second = env.rt.inspect(name).trace?.recorderPid;
    assert.ok(second && second !== first.recorderPid);
    // The recorder's own capture must go with it.
    const helpers = descendantsOf(second);
    assert.equal(helpers.length, 1, 'its capture');
    assert.equal((await corral(['rm', '-f', name], cli)).code, 0);
    assert.deepEqual(hostPidsWith(`corral-trace-recorder ${name}`), [], 'rm ends the recorder');
    await until(
      () => hostPidsWith('corral-trace-capture').every((p) => !helpers.includes(p)),
      'its capture ended',
    );
    assert.deepEqual(env.leftovers(tag), []);
  });

  it('appends a second section when a traced container is started again', async (t) => {
    if (!requireOrSkip(t, await missing())) return;
    const name = `${tag}-again`;
    await env.rt.create(name, { command: ['sh', '-c', `/bin/true; : ${tag}`] }, { trace: true });
    for (let i = 0; i < 2; i++) {
      await env.rt.start(name);
      await env.rt.wait(name);
      await until(() => env.rt.inspect(name).trace?.recorderPid === null, 'the recorder ended');
    }
    const rs: TraceRecord[] = [];
    for await (const r of env.rt.trace(name)) rs.push(r);
    assert.deepEqual(
      rs.filter((r) => r.type === 'start' || r.type === 'end').map((r) => r.type),
      ['start', 'end', 'start', 'end'],
    );
    assert.equal(rs.filter((r) => r.type === 'exec' && r.command === '/bin/true').length, 2);
    await env.rt.remove(name);
  });

  for (const failpoint of ['start:traced', 'start:ready'])
    it(`leaves no recorder when the CLI is killed at ${failpoint} and the next command removes the container`, async (t) => {
      if (!requireOrSkip(t, await missing())) return;
      const name = `${tag}-${failpoint.replace(':', '-')}`;
      await env.rt.create(name, { command: ['sh', '-c', `sleep 600 # ${tag}`] }, { trace: true });
      const killed = await corral(['start', name], { env: { ...cli.env, CORRAL_FAILPOINTS: failpoint } });
      assert.equal(killed.code, null, 'the CLI died at the failpoint');
      assert.equal(hostPidsWith(`corral-trace-recorder ${name}`).length, 1, 'its recorder was running');
      assert.equal(env.rt.state(name).status, 'broken');
      await env.rt.remove(name, { force: true });
      assert.deepEqual(hostPidsWith(`corral-trace-recorder ${name}`), []);
      assert.deepEqual(env.leftovers(tag), []);
    });
});
