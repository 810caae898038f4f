import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { UnsupportedError, capabilities, run } from '../../../../src/index.js';

/**
 * The macOS backend on a real Mac. Elsewhere these skip, and not through requireOrSkip: a Linux
 * host does not lack a prerequisite, it is a different operating system.
 */
const onMac = process.platform === 'darwin';
const skipOffMac = (t: TestContext) => {
  if (!onMac) t.skip('macOS only: Seatbelt (sandbox-exec) exists only on macOS');
  return onMac;
};

const work = onMac ? realpathSync(mkdtempSync(path.join(tmpdir(), 'corral-mac-it-'))) : '';
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('macOS backend (Seatbelt)', () => {
  it('reports Seatbelt isolation as kernel and the monitors as userspace', async (t) => {
    if (!skipOffMac(t)) return;
    const c = await capabilities();
    assert.equal(c.backend, 'darwin-seatbelt');
    assert.equal(c.isolation.filesystem?.status, 'kernel');
    assert.equal(c.isolation.network?.status, 'kernel');
    assert.equal(c.limits.memory?.status, 'userspace');
    assert.equal(c.limits.pids?.status, 'unavailable');
  });

  it('lets the command write only to --rw paths and its workspace, and not read the home directory', async (t) => {
    if (!skipOffMac(t)) return;
    const r = await run({
      command: [
        '/bin/sh',
        '-c',
        `echo ok > "${work}/inside" && echo ok > "$TMPDIR/scratch" && ` +
          `(echo no > "${path.join(homedir(), 'corral-escape')}" 2>/dev/null && echo wrote-home || echo home-denied) && ` +
          `(ls "${homedir()}" >/dev/null 2>&1 && echo listed-home || echo home-hidden)`,
      ],
      rw: [work],
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(readFileSync(path.join(work, 'inside'), 'utf8'), 'ok\n');
    assert.deepEqual(r.stdout?.trim().split('\n'), ['home-denied', 'home-hidden']);
  });

  it('cuts the network by default and opens only the listed localhost port', async (t) => {
    if (!skipOffMac(t)) return;
    const server = createServer((s) => s.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const nc = ['/usr/bin/nc', '-w', '2', '127.0.0.1', String(port)];
      const closed = await run({ command: nc });
      assert.notEqual(closed.exitCode, 0);
      const open = await run({ command: nc, macos: { localhost: { connect: [port] } } });
      assert.equal(open.stdout?.trim(), 'hello');
    } finally {
      server.close();
    }
  });

  it('makes the 17th open fail under --nofile 16, and stops a spinner at --cpu-time 1s', async (t) => {
    if (!skipOffMac(t)) return;
    const files = await run({
      command: [
        '/bin/sh',
        '-c',
        'i=3; while [ $i -le 20 ]; do eval "exec $i</dev/null" 2>/dev/null || { echo failed-at $i; exit 0; }; i=$((i+1)); done; echo all-opened',
      ],
      limits: { nofile: 16 },
    });
    // Descriptors 0-15 are the 16 allowed; opening descriptor 16 is the 17th open.
    assert.equal(files.stdout?.trim(), 'failed-at 16');
    const spin = await run({
      command: ['/bin/sh', '-c', 'while :; do :; done'],
      limits: { cpuTime: '1s', timeout: '20s' },
    });
    assert.equal(spin.reason, 'cpu-time');
  });

  it('kills a 300 MB allocator under --memory 100Mi with reason memory', async (t) => {
    if (!skipOffMac(t)) return;
    const hog = path.join(work, 'hog.sh');
    // Grows by doubling a shell variable: no interpreter needed.
    writeFileSync(hog, 'x=xxxxxxxxxxxxxxxx\nwhile :; do x="$x$x"; done\n');
    const r = await run({
      command: ['/bin/sh', hog],
      limits: { memory: '100Mi', timeout: '30s' },
      ro: [work],
    });
    assert.equal(r.reason, 'memory');
    assert.equal(r.limits.memory?.enforcement, 'userspace');
  });

  it('gives a spinning loop 35-65% of one core under --cpus 0.5 over 5 s', async (t) => {
    if (!skipOffMac(t)) return;
    const r = await run({
      command: ['/bin/sh', '-c', 'while :; do :; done'],
      limits: { cpus: 0.5, timeout: '5s' },
    });
    const share = ((r.cpuUserMs ?? 0) + (r.cpuSystemMs ?? 0)) / r.wallMs;
    t.diagnostic(`cpu share ${share.toFixed(3)}`);
    assert.ok(share >= 0.35 && share <= 0.65, `share ${share}`);
  });

  it('ends the whole process group at the timeout, background children included', async (t) => {
    if (!skipOffMac(t)) return;
    const seconds = String(3000 + (process.pid % 1000));
    const r = await run({
      command: ['/bin/sh', '-c', `sleep ${seconds} & sleep ${seconds}`],
      limits: { timeout: '1s' },
    });
    assert.equal(r.reason, 'timeout');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Listed from the host: inside the sandbox, ps sees only the sandbox's own processes.
    const ps = spawnSync('/bin/ps', ['-A', '-o', 'command='], { encoding: 'utf8' });
    assert.ok(!ps.stdout.split('\n').some((l) => l.trim() === `sleep ${seconds}`), 'a sleep survived');
  });

  it('refuses --pids with the reason', async (t) => {
    if (!skipOffMac(t)) return;
    await assert.rejects(
      run({ command: ['/usr/bin/true'], limits: { pids: 10 } }),
      (err: unknown) => err instanceof UnsupportedError && /NPROC/.test(err.message),
    );
  });
});
