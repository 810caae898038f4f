import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { run, spawn } from '../../../src/index.js';
import { cgroupsMissing, hostPidsWith, leftoverRunCgroups, linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

const missing = () => linuxSandboxMissing() ?? cgroupsMissing();

describe('limits enforced by the kernel', () => {
  it('kills a memory bomb under a 64Mi limit and says it was memory', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const r = await run({
      command: ['python3', '-c', 'a = []\nwhile True: a.append(bytearray(1 << 20))'],
      limits: { memory: '64Mi', timeout: '20s' },
    });
    assert.equal(r.reason, 'memory');
    assert.equal(r.exitCode, 137);
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.limits.memory?.enforcement, 'kernel');
    assert.match(r.limits.memory?.mechanism ?? '', /^cgroup-v[12] memory/);
    assert.match(r.message ?? '', /^memory limit 64Mi exceeded/);
    assert.ok(
      r.peakMemoryBytes !== null && r.peakMemoryBytes > 32 * 2 ** 20 && r.peakMemoryBytes <= 64 * 2 ** 20,
      `peak ${r.peakMemoryBytes}`,
    );
    assert.deepEqual(leftoverRunCgroups(), []);
  });

  it('ends the whole sandbox when the OOM killer hits one child of a shell', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const r = await run({
      command: ['sh', '-c', 'python3 -c "b = bytearray(200 << 20)"; sleep 30'],
      limits: { memory: '64Mi', timeout: '20s' },
    });
    assert.equal(r.reason, 'memory');
    assert.ok(r.wallMs < 10_000, `the sleep after the OOM kill must not run: ${r.wallMs} ms`);
  });

  it('holds a fork bomb at 32 pids while the host keeps spawning processes', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    // Every process forks forever and shrugs off EAGAIN: without the pids limit the host dies.
    const proc = spawn(
      {
        command: ['python3', '-c', 'import os\nwhile True:\n  try: os.fork()\n  except OSError: pass'],
        limits: { pids: 32, timeout: '3s', cpus: 1 },
      },
      { stdout: 'ignore', stderr: 'ignore', stdin: 'ignore' },
    );
    await proc.start();
    await new Promise((r) => setTimeout(r, 1500));
    const during = proc.stats();
    assert.ok(
      during.pids !== null && during.pids >= 20 && during.pids <= 32,
      `pids in the sandbox: ${during.pids}`,
    );
    const probe = spawnSync('/bin/echo', ['host is fine'], { encoding: 'utf8' });
    assert.equal(probe.stdout.trim(), 'host is fine');
    const r = await proc.wait();
    assert.equal(r.reason, 'timeout');
    assert.equal(r.limits.pids?.enforcement, 'kernel');
    assert.deepEqual(leftoverRunCgroups(), []);
  });

  it('gives a spinning loop 40-60% of one core under --cpus 0.5 over 3 s', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const r = await run({
      command: ['sh', '-c', 'while :; do :; done'],
      limits: { cpus: 0.5, timeout: '3s' },
    });
    assert.equal(r.reason, 'timeout');
    const cpu = (r.cpuUserMs ?? 0) + (r.cpuSystemMs ?? 0);
    const share = cpu / r.wallMs;
    assert.ok(share >= 0.4 && share <= 0.6, `share ${share.toFixed(3)} (cpu ${cpu} ms over ${r.wallMs} ms)`);
  });

  it('stops a CPU hog at --cpu-time 1s with reason cpu-time', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const r = await run({
      command: ['sh', '-c', 'while :; do :; done'],
      limits: { cpuTime: '1s', timeout: '15s' },
    });
    assert.equal(r.reason, 'cpu-time');
    assert.equal(r.signal, 'SIGXCPU');
    assert.equal(r.limits.cpuTime?.mechanism, 'rlimit RLIMIT_CPU (per process)');
    assert.match(r.message ?? '', /cpu-time limit 1s exceeded/);
  });

  it('stops a writer at --fsize 1Mi with reason file-size', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const r = await run({
      command: ['dd', 'if=/dev/zero', 'of=/tmp/big', 'bs=64k', 'count=64'],
      limits: { fsize: '1Mi' },
    });
    assert.equal(r.reason, 'file-size');
    assert.equal(r.signal, 'SIGXFSZ');
  });

  it('makes the 17th open fail under --nofile 16', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const script = [
      'import os, errno',
      'fds = []',
      'while True:',
      '    try: fds.append(os.open("/dev/null", os.O_RDONLY))',
      '    except OSError as e: print(len(fds) + 3, errno.errorcode[e.errno]); break',
    ].join('\n');
    const r = await run({ command: ['python3', '-c', script], limits: { nofile: 16 } });
    assert.equal(r.exitCode, 0, r.stderr);
    // 0, 1 and 2 are open: 13 more succeed, 16 in all; the next one fails with EMFILE.
    assert.equal(r.stdout?.trim(), '16 EMFILE');
  });

  it('times out a tree with grandchildren and a setsid child within about a second, leaving nothing', async (t) => {
    if (!requireOrSkip(t, missing())) return;
    const tag = `corral-timeout-${process.pid}-${Date.now()}`;
    // A sleeper that carries the tag in its own command line, so the host can look for it.
    const sleeper = `python3 -c "import time; time.sleep(1000)" ${tag}`;
    const proc = spawn(
      {
        command: ['sh', '-c', `(${sleeper} &) ; setsid ${sleeper} & sh -c '${sleeper} & wait' & wait`],
        limits: { timeout: '1s' },
      },
      { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
    );
    await proc.start();
    await new Promise((r) => setTimeout(r, 600));
    // The double-forked, the setsid'd and the grandchild sleeper are all running now.
    assert.ok(hostPidsWith(tag).length >= 3, `sleepers seen from the host: ${hostPidsWith(tag).length}`);
    const r = await proc.wait();
    assert.equal(r.reason, 'timeout');
    assert.equal(r.exitCode, 137);
    assert.ok(r.wallMs >= 1000 && r.wallMs < 2000, `wall ${r.wallMs} ms`);
    assert.deepEqual(hostPidsWith(tag), []);
  });
});
