import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, spawn } from '../../../src/index.js';
import { hostPidsWith, isRoot, linuxSandboxMissing, marker, sandboxWritableDir } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

const PY_CONNECT =
  'import socket,sys\ns=socket.socket()\ns.settimeout(2)\ntry:\n  s.connect(("127.0.0.1", int(sys.argv[1]))); print("connected")\nexcept OSError as e: print("refused", e.errno)';

describe('isolation', () => {
  let server: ReturnType<typeof createServer>;
  let port = 0;
  before(async () => {
    server = createServer((s) => {
      s.on('error', () => undefined);
      s.end('hello from the host\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(() => server.close());

  it('cannot reach a server on the host loopback without --net host', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await run({ command: ['python3', '-c', PY_CONNECT, String(port)] });
    assert.match(r.stdout ?? '', /^refused/);
  });

  it('reaches the same server with --net host (so the test above can fail)', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await run({ command: ['python3', '-c', PY_CONNECT, String(port)], network: 'host' });
    assert.equal(r.stdout?.trim(), 'connected');
  });

  it('lets the command write inside --rw paths and nowhere else on the host', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const dir = sandboxWritableDir();
    // Beside the bind, in the sandbox's private /tmp: the write succeeds there but never reaches the host.
    const beside = path.join(path.dirname(dir), `${path.basename(dir)}-beside`);
    try {
      const r = await run({
        command: [
          'sh',
          '-c',
          `echo inside > ${dir}/ok; echo x > ${beside}; for p in /etc/corral-test /usr/corral-test /var/corral-test /corral-test; do touch $p 2>/dev/null || echo denied $p; done`,
        ],
        rw: [dir],
      });
      assert.equal(readFileSync(path.join(dir, 'ok'), 'utf8'), 'inside\n');
      assert.equal(existsSync(beside), false);
      assert.equal(
        r.stdout,
        'denied /etc/corral-test\ndenied /usr/corral-test\ndenied /var/corral-test\ndenied /corral-test\n',
      );
      for (const p of ['/etc/corral-test', '/usr/corral-test', '/var/corral-test', '/corral-test'])
        assert.equal(existsSync(p), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mounts --ro paths read-only and gives a private, writable /tmp', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const dir = sandboxWritableDir();
    writeFileSync(path.join(dir, 'data'), 'payload');
    try {
      const r = await run({
        command: [
          'sh',
          '-c',
          'cat /mnt/data; echo x > /mnt/new 2>/dev/null || echo ro; echo t > /tmp/t && cat /tmp/t',
        ],
        ro: [`${dir}:/mnt`],
      });
      assert.equal(r.stdout, 'payloadro\nt\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows nothing of the host /root or /home', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const tag = marker();
    const probe = isRoot ? '/root' : (process.env.HOME ?? '/root');
    const file = path.join(probe, tag);
    writeFileSync(file, 'secret');
    try {
      const r = await run({
        command: [
          'sh',
          '-c',
          `cat ${file} 2>/dev/null || echo unreadable; ls -A ${probe} | wc -l; ls -A /home | wc -l`,
        ],
      });
      assert.equal(r.stdout, 'unreadable\n0\n0\n');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("lets ps see only the sandbox's own processes", async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await run({ command: ['sh', '-c', 'ps -e -o pid= -o comm='] });
    const lines = (r.stdout ?? '')
      .trim()
      .split('\n')
      .map((l) => l.trim());
    // bwrap's init, the shell and ps itself: pids 1..3 of the sandbox's own namespace.
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/)[1]),
      ['bwrap', 'sh', 'ps'],
    );
    assert.equal(lines[0]?.split(/\s+/)[0], '1');
  });

  it('never runs the command as host uid 0, even when corral is root', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const tag = marker();
    const proc = spawn(
      { command: ['python3', '-c', 'import time; time.sleep(30)', tag] },
      { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
    );
    await proc.start();
    try {
      let pids: number[] = [];
      for (let i = 0; i < 50 && pids.length === 0; i++) {
        // bwrap's own command lines hold the tag too: keep the python process itself.
        pids = hostPidsWith(tag).filter((p) =>
          readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('python3\0'),
        );
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(pids.length, 1);
      const status = readFileSync(`/proc/${pids[0]}/status`, 'utf8');
      const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/).map(Number) ?? [];
      assert.equal(uids.length, 4);
      for (const u of uids) assert.notEqual(u, 0, status);
      if (isRoot) assert.deepEqual(uids, [2_000_000_000, 2_000_000_000, 2_000_000_000, 2_000_000_000]);
      assert.match(status, /^CapEff:\s+0+$/m);
    } finally {
      proc.kill();
      await proc.wait();
    }
  });

  it('clears the environment to PATH, HOME, LANG, TERM (and PWD, set by bubblewrap) plus what was asked for', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    process.env.CORRAL_TEST_SECRET = 'do-not-leak';
    try {
      const r = await run({ command: ['env'], env: { GREETING: 'hi there' } });
      const keys = (r.stdout ?? '')
        .trim()
        .split('\n')
        .map((l) => l.split('=')[0])
        .sort();
      assert.deepEqual(
        keys.filter((k) => k !== 'TERM'),
        ['GREETING', 'HOME', 'LANG', 'PATH', 'PWD'],
      );
      assert.match(r.stdout ?? '', /^GREETING=hi there$/m);
      assert.doesNotMatch(r.stdout ?? '', /do-not-leak/);
    } finally {
      delete process.env.CORRAL_TEST_SECRET;
    }
  });
});
