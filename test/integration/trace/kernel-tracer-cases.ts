import assert from 'node:assert/strict';
import { execFileSync, spawn as spawnHost } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { run, spawn, type SandboxSpec } from '../../../src/index.js';
import { findHostTool } from '../../../src/platform/linux/host-tools.js';
import type { ExecEvent, ExitEvent, TraceEvent, Tracer } from '../../../src/trace/types.js';
import { marker, running, sandboxWritableDir } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

export interface KernelTracerUnderTest {
  /** The backend's name, as `run({ trace: { backend } })` takes it. */
  readonly backend: string;
  readonly create: () => Tracer & { readonly capturePid: number | undefined };
  /** Its class name in the library's exports (for a script that imports it). */
  readonly exportName: string;
  /** Why it cannot run here, or undefined. */
  readonly missing: () => Promise<string | undefined>;
  /** What of the kernel the capture holds while it runs (sockets, eBPF objects). */
  readonly held: (pid: number) => number;
}

export const execs = (evs: TraceEvent[]) => evs.filter((e): e is ExecEvent => e.type === 'exec');
export const exits = (evs: TraceEvent[]) => evs.filter((e): e is ExitEvent => e.type === 'exit');

/** run() with this backend's tracer, collecting its events. */
export function tracedBy(backend: string) {
  return async (command: string[], spec: Omit<SandboxSpec, 'command'> = {}) => {
    const events: TraceEvent[] = [];
    const result = await run(
      { ...spec, command },
      { trace: { backend, label: 'it', onEvent: (e) => events.push(e) } },
    );
    return { result, events };
  };
}

const THREADS = path.resolve(import.meta.dirname, '../../fixtures/thread-exits.c');

/** The thread-exits fixture, compiled into a directory a sandbox can see (`ro`). */
export function threadFixture(): { dir: string; bin: string; missing: () => string | undefined } {
  const fx = { dir: '', bin: '', missing: () => (findHostTool('gcc') ? undefined : 'gcc is not installed') };
  before(() => {
    if (fx.missing()) return;
    fx.dir = sandboxWritableDir('corral-threads-');
    chmodSync(fx.dir, 0o755);
    fx.bin = path.join(fx.dir, 'thread-exits');
    execFileSync('gcc', ['-O1', '-pthread', '-o', fx.bin, THREADS]);
  });
  after(() => fx.dir && rmSync(fx.dir, { recursive: true, force: true }));
  return fx;
}

/** What every tracer fed by the kernel's events must do, whatever feeds it. */
export function kernelTracerCases(u: KernelTracerUnderTest): void {
  const traced = tracedBy(u.backend);
  const fx = threadFixture();

  it('ends a process with its last thread when its main thread exits first', async (t) => {
    if (!requireOrSkip(t, (await u.missing()) ?? fx.missing())) return;
    const { result, events } = await traced([fx.bin, 'leader-exits'], { ro: [fx.dir] });
    assert.equal(result.exitCode, 7, result.stderr ?? '');
    const top = execs(events).find((e) => e.exe === fx.bin);
    assert.ok(top, 'the fixture was traced');
    // The thread that outlived the main one forked and exec'd: still the sandbox's.
    assert.ok(execs(events).some((e) => e.command === '/bin/true' && e.args?.[0] === 'leader-gone'));
    const ends = exits(events).filter((e) => e.pid === top.pid);
    assert.equal(ends.length, 1, 'one exit for the process');
    assert.equal(ends[0]?.exitCode, 7, 'with the status of its last thread’s exit(7)');
  });

  it('follows a process whose second thread execs (the kernel ends its main thread)', async (t) => {
    if (!requireOrSkip(t, (await u.missing()) ?? fx.missing())) return;
    const { result, events } = await traced([fx.bin, 'exec-from-thread'], { ro: [fx.dir] });
    assert.equal(result.exitCode, 0, result.stderr ?? '');
    const top = execs(events).find((e) => e.exe === fx.bin);
    const next = execs(events).find((e) => e.command === '/bin/true');
    assert.ok(
      top && next,
      `execs: ${execs(events)
        .map((e) => e.command)
        .join(' ')}`,
    );
    assert.equal(next.pid, top.pid, 'the same process, now running /bin/true');
    assert.deepEqual(next.args, ['exec-thread']);
    const ends = exits(events).filter((e) => e.pid === top.pid);
    assert.deepEqual(
      ends.map((e) => [e.exitCode, e.command]),
      [[0, '/bin/true']],
      'it ended once, as /bin/true',
    );
  });

  it('reports exec, fork and exit events of a script with children, with parents and statuses', async (t) => {
    if (!requireOrSkip(t, await u.missing())) return;
    const script = 'ls / >/dev/null; (sleep 0.2; exit 3) & sh -c "exit 5"; wait; kill -9 $$';
    const { result, events } = await traced(['/bin/sh', '-c', script]);
    assert.equal(result.signal ?? result.exitCode, result.signal ? 'SIGKILL' : 137);
    const byCommand = (c: string) => execs(events).find((e) => e.command === c);
    const top = byCommand('/bin/sh');
    const ls = byCommand('ls');
    const sleep = byCommand('sleep');
    assert.ok(
      top && ls && sleep,
      `execs seen: ${execs(events)
        .map((e) => e.command)
        .join(' ')}`,
    );
    assert.deepEqual(top.args, ['-c', script]);
    assert.deepEqual(ls.args, ['/']);
    assert.deepEqual(sleep.args, ['0.2']);
    assert.equal(ls.ppid, top.pid);
    assert.ok(events.every((e) => e.sandbox === 'it'));
    // Every process that exec'd was reported as forked first, from a process of the sandbox.
    const forked = new Map(events.filter((e) => e.type === 'fork').map((e) => [e.pid, e.ppid]));
    for (const e of [ls, sleep]) assert.ok(forked.has(e.pid), `fork of ${e.command}`);
    const exitOf = (pid: number) => exits(events).find((e) => e.pid === pid);
    assert.equal(exitOf(ls.pid)?.exitCode, 0);
    assert.equal(exitOf(sleep.pid)?.exitCode, 0);
    assert.equal(exitOf(forked.get(sleep.pid) as number)?.exitCode, 3, 'the subshell exits 3');
    assert.ok(
      exits(events).some((e) => e.exitCode === 5 && e.command === 'sh'),
      'sh -c "exit 5"',
    );
    assert.equal(exitOf(top.pid)?.signal, 'SIGKILL');
    assert.equal(result.trace?.backend, u.backend);
    assert.equal(result.trace?.lost, 0);
  });

  it('never reports execs that happen on the host at the same time', async (t) => {
    if (!requireOrSkip(t, await u.missing())) return;
    const hostTag = marker();
    const hostPids: number[] = [];
    let stop = false;
    const hostLoop = (async () => {
      while (!stop) {
        await new Promise<void>((resolve) => {
          const p = spawnHost('/bin/echo', [hostTag], { stdio: 'ignore' });
          if (p.pid) hostPids.push(p.pid);
          p.on('close', () => resolve());
        });
      }
    })();
    const { events } = await traced(['sh', '-c', 'for i in $(seq 200); do /bin/true in-sandbox; done']);
    stop = true;
    await hostLoop;
    assert.ok(hostPids.length > 5, `the host ran ${hostPids.length} execs meanwhile`);
    // sh, seq and the 200 trues: every exec is seen, whether or not its argv could still be read.
    assert.equal(execs(events).length, 202);
    const withArgv = execs(events).filter((e) => e.args?.[0] === 'in-sandbox').length;
    t.diagnostic(`argv captured for ${withArgv}/200 execs while the host was busy`);
    const hostSet = new Set(hostPids);
    assert.deepEqual(
      events.filter((e) => (e.type !== 'lost' && hostSet.has(e.pid)) || JSON.stringify(e).includes(hostTag)),
      [],
    );
    // Nothing from the test process itself (the sandbox's bwrap parent is on the host).
    assert.ok(events.every((e) => e.type === 'lost' || e.pid !== process.pid));
  });

  it('preserves arguments with spaces, quotes, unicode, empty strings and control characters', async (t) => {
    if (!requireOrSkip(t, await u.missing())) return;
    const args = ['a b', `q'uote`, 'dq"x', 'ünï cødé ✓ 日本', '', 'tab\there', '--flag=$HOME', '*'];
    const { result, events } = await traced(['/bin/echo', ...args]);
    assert.equal(result.exitCode, 0);
    const echo = execs(events).find((e) => e.command === '/bin/echo');
    assert.deepEqual(echo?.args, args);
    assert.equal(echo?.argv, 'full');
    assert.equal(echo?.exe, '/usr/bin/echo');
    assert.equal(echo?.cwd, '/');
  });

  it('keeps two sandboxes traced at once apart', async (t) => {
    if (!requireOrSkip(t, await u.missing())) return;
    const [a, b] = await Promise.all([
      traced(['sh', '-c', 'for i in 1 2 3; do /bin/true A$i; done']),
      traced(['sh', '-c', 'for i in 1 2 3; do /bin/true B$i; done']),
    ]);
    const argsOf = (evs: TraceEvent[]) =>
      execs(evs).flatMap((e) => (e.command === '/bin/true' ? (e.args ?? []) : []));
    assert.deepEqual(argsOf(a.events), ['A1', 'A2', 'A3']);
    assert.deepEqual(argsOf(b.events), ['B1', 'B2', 'B3']);
  });

  it('delivers events live through events() while the sandbox runs', async (t) => {
    if (!requireOrSkip(t, await u.missing())) return;
    const tracer = u.create();
    const proc = spawn(
      { command: ['sh', '-c', '/bin/true first; sleep 5'] },
      { stdout: 'ignore', stderr: 'ignore', onReady: (s) => tracer.start(s) },
    );
    await proc.start();
    try {
      for await (const e of tracer.events()) {
        if (e.type === 'exec' && e.command === '/bin/true') {
          assert.deepEqual(e.args, ['first']);
          break;
        }
      }
    } finally {
      proc.kill();
      await proc.wait();
      await tracer.stop();
    }
  });

  it('ends its capture when corral dies without stopping it', async (t) => {
    if (!requireOrSkip(t, await u.missing())) return;
    const script = `
      import { ${u.exportName} } from ${JSON.stringify(new URL('../../../src/index.ts', import.meta.url).href)};
      const t = new ${u.exportName}();
      await t.start({ initPid: process.pid });
      console.log(t.capturePid);
      setInterval(() => {}, 1000);`;
    const corral = spawnHost(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const capture = await new Promise<number>((resolve) =>
      corral.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString()))),
    );
    assert.ok(u.held(capture) > 0);
    corral.kill('SIGKILL');
    for (let i = 0; i < 100 && running(capture); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(running(capture), false, 'the capture ended');
    assert.equal(u.held(capture), 0, 'and let go of what it held in the kernel');
  });
}
