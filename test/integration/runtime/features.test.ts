import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { detectCgroups } from '../../../src/platform/linux/cgroup/detect.js';
import { cgroupsMissing, corral, linuxSandboxMissing, marker } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import { hostRuntime, minimalRootfs, mountsUnder, tempDir } from '../../helpers/runtime-host.js';

const missing = () => linuxSandboxMissing() ?? cgroupsMissing();

describe('container features (real kernel)', () => {
  let env: ReturnType<typeof hostRuntime>;
  let tag: string;
  before(() => {
    env = hostRuntime();
    tag = marker();
  });
  after(() => env.cleanup());

  it('exec sees the container’s own files (its private /tmp too) and its processes, as its uid, in its cgroup and rlimits', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await rt.create('ex', {
      command: ['sh', '-c', `echo secret-$$ > /tmp/private; exec sleep 600 # ${tag}`],
      limits: { nofile: 64, memory: '64Mi' },
    });
    await rt.start('ex');
    await sleep(200);
    const r = await rt.exec('ex', [
      'sh',
      '-c',
      'cat /tmp/private; ps -e -o pid=,comm= | tr -s " " | sort -n; id -u; ulimit -n; cat /proc/self/status | grep -E "^(NoNewPrivs|CapEff)"; echo $$ > /tmp/exec-pid; sleep 0.3',
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const containerPid = /secret-(\d+)/.exec(lines[0] ?? '')?.[1];
    assert.ok(containerPid, `exec read the container's /tmp/private: ${r.stdout}`);
    assert.match(r.stdout, / ?1 bwrap\n/, 'pid 1 is the container’s init: same pid namespace');
    assert.match(
      r.stdout,
      new RegExp(`\\b${containerPid} sleep\\b`),
      'exec sees the container’s main process',
    );
    assert.ok(
      lines.includes(String(process.getuid?.() === 0 ? 2_000_000_000 : process.getuid?.())),
      'runs as the sandbox uid',
    );
    assert.ok(lines.includes('64'), 'carries the container’s RLIMIT_NOFILE');
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    assert.match(r.stdout, /CapEff:\s+0+\n/);
    // The file exec wrote is the container's: the container sees it too.
    const back = await rt.exec('ex', ['cat', '/tmp/exec-pid']);
    assert.match(back.stdout, /^\d+\n$/);
    const info = rt.inspect('ex');
    assert.equal(info.state.status, 'running');
    // Host side: the exec'd shell was in the container's cgroup (checked while it ran below).
    const probe = rt.exec('ex', ['sh', '-c', `sleep 0.5 # exec-${tag}`]);
    await sleep(200);
    const cg = detectCgroups().driver?.open(info.cgroup as string);
    const inCgroup = cg?.procs() ?? [];
    const hostExec = inCgroup.filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`exec-${tag}`);
      } catch {
        return false;
      }
    });
    assert.ok(hostExec.length > 0, 'the exec’d command is in the container’s cgroup');
    assert.equal((await probe).exitCode, 0);
    const nf = await rt.exec('ex', ['no-such-program']);
    assert.equal(nf.exitCode, 127);
    await rt.remove('ex', { force: true });
  });

  it('logs --follow receives lines written after it started, and ends when the container stops', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const script = `echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second; sleep 0.3; echo third; exec sleep 600 # ${tag}`;
    assert.equal(
      (
        await corral(['run', '-d', '--name', 'lf', '--', 'sh', '-c', script], {
          env: { CORRAL_DATA_DIR: env.dataDir },
        })
      ).code,
      0,
    );
    const cli = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');
    const follower = spawn(process.execPath, ['--import', 'tsx', '--', cli, 'logs', '-f', 'lf'], {
      env: { ...process.env, CORRAL_DATA_DIR: env.dataDir },
    });
    let out = '';
    follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<number | null>((r) => follower.once('close', r));
    for (let i = 0; i < 100 && !out.includes('first'); i++) await sleep(50);
    assert.equal(out, 'first\n', 'the follower printed what was there');
    await env.rt.exec('lf', ['touch', '/tmp/go']);
    for (let i = 0; i < 100 && !out.includes('third'); i++) await sleep(50);
    assert.equal(out, 'first\nsecond\nthird\n');
    await env.rt.stop('lf', { grace: 1000 });
    assert.equal(await closed, 0, 'logs -f returns once the container has stopped');
    await env.rt.remove('lf');
  });

  it('lets a container started by one corral process be stopped by another', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const e = { env: { CORRAL_DATA_DIR: env.dataDir } };
    assert.equal(
      (await corral(['run', '-d', '--name', 'xp', '--', 'sh', '-c', `exec sleep 600 # ${tag}`], e)).code,
      0,
    );
    // The first corral has exited: the container runs on, with no corral process of its own.
    assert.equal(env.rt.state('xp').status, 'running');
    const stop = await corral(['stop', '-t', '2', 'xp'], e);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(env.rt.state('xp').outcome?.signal, 'SIGTERM');
    assert.equal((await corral(['wait', 'xp'], e)).stdout, '143\n');
    assert.equal((await corral(['rm', 'xp'], e)).code, 0);
    assert.deepEqual(env.leftovers(tag), []);
  });

  it('reserves a port from create until start, and a --net host service can bind it', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    const c = await rt.create('svc', {
      command: [
        'python3',
        '-c',
        `import os,socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("127.0.0.1",int(os.environ["PORT"])));s.listen();print("listening",flush=True);c,_=s.accept();c.sendall(os.environ["CORRAL_PORT"].encode());c.close() # ${tag}`,
      ],
      network: 'host',
    });
    const port = c.port as number;
    // Held between create and start: nobody else can listen on it.
    await assert.rejects(listenOn(port), /EADDRINUSE/);
    await c.start();
    for (let i = 0; i < 100; i++) {
      const logs = [];
      for await (const l of rt.logs('svc')) logs.push(l.text);
      if (logs.includes('listening')) break;
      await sleep(50);
    }
    assert.equal(await fetchOnce(port), String(port));
    assert.equal(rt.ip('svc'), '127.0.0.1');
    assert.equal(rt.port('svc'), port);
    assert.equal((await rt.wait('svc')).exitCode, 0);
    await rt.remove('svc');
  });

  it('gives each image container a copy-on-write view: writes never reach the image or other containers', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    const src = minimalRootfs(tempDir('corral-img-'));
    writeFileSync(path.join(src, 'data', 'note'), 'original\n');
    chmodSync(path.join(src, 'data'), 0o777);
    chmodSync(path.join(src, 'data', 'note'), 0o666);
    const img = await rt.importImage(src, 'cow');
    const write = ['sh', '-c', 'echo changed > /data/note; echo new > /data/extra; cat /data/note'];
    await rt.create('cow1', { command: write }, { image: 'cow' });
    await rt.create('cow2', { command: ['sh', '-c', 'cat /data/note; ls /data'] }, { image: 'cow' });
    assert.equal(rt.inspect('cow1').rootfs.mode, 'overlay');
    await rt.start('cow1');
    assert.equal((await rt.wait('cow1')).exitCode, 0);
    await rt.start('cow2');
    await rt.wait('cow2');
    const out = async (n: string) => {
      const l: string[] = [];
      for await (const x of rt.logs(n)) l.push(x.text);
      return l;
    };
    assert.deepEqual(await out('cow1'), ['changed']);
    assert.deepEqual(await out('cow2'), ['original', 'note']);
    assert.equal(readFileSync(path.join(img.rootfs, 'data', 'note'), 'utf8'), 'original\n');
    assert.equal(existsSync(path.join(img.rootfs, 'data', 'extra')), false);
    await rt.remove('cow1');
    await rt.remove('cow2');
    assert.deepEqual(mountsUnder(env.dataDir), [], 'rm unmounted both overlays');
    rt.removeImage('cow');
  });

  it('runs a container on a --rootfs directory', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const dir = minimalRootfs(tempDir('corral-rootfs-'));
    chmodSync(dir, 0o755);
    await env.rt.create('rf', { command: ['sh', '-c', 'ls /; echo done'], rootfs: dir });
    await env.rt.start('rf');
    assert.equal((await env.rt.wait('rf')).exitCode, 0);
    const lines: string[] = [];
    for await (const l of env.rt.logs('rf')) lines.push(l.text);
    assert.ok(lines.includes('bin') && lines.includes('done'), lines.join(','));
    await env.rt.remove('rf');
  });

  it('with --log-timestamps, stamps each line with when it was written and interleaves the streams', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await rt.create(
      'lt',
      { command: ['sh', '-c', `echo a; sleep 0.3; echo b >&2; sleep 0.3; echo c # ${tag}`] },
      { logTimestamps: true },
    );
    const before = Date.now();
    await rt.start('lt');
    await rt.wait('lt');
    const lines: { text: string; time?: string; stream: string }[] = [];
    for await (const l of rt.logs('lt')) lines.push(l);
    assert.deepEqual(
      lines.map((l) => `${l.stream}:${l.text}`),
      ['stdout:a', 'stderr:b', 'stdout:c'],
    );
    const times = lines.map((l) => Date.parse(l.time ?? 'x'));
    assert.ok(
      times.every((x) => x >= before - 5 && x <= Date.now()),
      `times ${lines.map((l) => l.time).join(', ')}`,
    );
    assert.ok((times[1] as number) - (times[0] as number) >= 250, 'b was written about 300 ms after a');
    assert.ok((times[2] as number) - (times[1] as number) >= 250, 'c was written about 300 ms after b');
    const since: string[] = [];
    for await (const l of rt.logs('lt', { since: new Date((times[1] as number) - 1) })) since.push(l.text);
    assert.deepEqual(since, ['b', 'c']);
    await rt.remove('lt');
  });

  it('reports a wall-clock timeout and an OOM kill as the reasons, with no corral process watching', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const { rt } = env;
    await rt.create('to', { command: ['sh', '-c', `exec sleep 600 # ${tag}`], limits: { timeout: '700ms' } });
    await rt.create('oom', {
      command: ['python3', '-c', `b=[]\nwhile True: b.append(bytearray(8<<20)) # ${tag}`],
      limits: { memory: '48Mi' },
    });
    await rt.start('to');
    await rt.start('oom');
    const [to, oom] = await Promise.all([rt.wait('to'), rt.wait('oom')]);
    assert.equal(to.reason, 'timeout');
    assert.equal(to.signal, 'SIGKILL');
    assert.equal(oom.reason, 'memory');
    await rt.remove('to');
    await rt.remove('oom');
  });
});

function listenOn(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1' }, () => s.close(() => resolve()));
  });
}

function fetchOnce(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}
