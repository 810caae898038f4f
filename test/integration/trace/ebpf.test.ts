import assert from 'node:assert/strict';
import { spawn as spawnHost } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EbpfTracer } from '../../../src/platform/linux/trace/ebpf-tracer.js';
import { running } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';
import type { ExitEvent, ForkEvent, TraceEvent } from '../../../src/trace/types.js';
import { bpfDescriptors, ebpfMissing, heldBpfPrograms, loadedBpfPrograms } from '../../helpers/tracing.js';
import { execs, kernelTracerCases, threadFixture, tracedBy } from './kernel-tracer-cases.js';

const traced = tracedBy('ebpf');
const CORRAL_PROGRAMS = ['corral_exec', 'corral_exit', 'corral_fork'];

describe('eBPF tracing of a real sandbox', () => {
  const fx = threadFixture();
  kernelTracerCases({
    backend: 'ebpf',
    create: () => new EbpfTracer(),
    exportName: 'EbpfTracer',
    missing: ebpfMissing,
    held: bpfDescriptors,
  });

  it('captures the exact argv of every exec in a burst of short-lived processes', async (t) => {
    if (!requireOrSkip(t, await ebpfMissing())) return;
    const { events } = await traced(['sh', '-c', 'for i in $(seq 300); do /bin/true "burst $i"; done']);
    const got = execs(events).flatMap((e) => (e.command === '/bin/true' ? [e.args?.join(' ')] : []));
    // Copied in the kernel while the exec happens: none can be lost to a fast exit.
    assert.deepEqual(
      got,
      Array.from({ length: 300 }, (_, i) => `burst ${i + 1}`),
    );
  });

  it('reports exe and cwd as /proc shows them, across mounts, symlinks and a deleted directory', async (t) => {
    if (!requireOrSkip(t, await ebpfMissing())) return;
    // Each readlink prints its own exe and cwd as the kernel resolves them: the trace must agree.
    const script = [
      'cd /usr/share && /bin/readlink /proc/self/exe /proc/self/cwd',
      'mkdir -p /tmp/a/b && cd /tmp/a/b && /bin/readlink /proc/self/exe /proc/self/cwd',
      'mkdir /tmp/gone && cd /tmp/gone && rmdir /tmp/gone && /bin/readlink /proc/self/exe /proc/self/cwd',
    ].join('; ');
    const { result, events } = await traced(['sh', '-c', script]);
    assert.equal(result.exitCode, 0, result.stderr ?? '');
    const printed = (result.stdout ?? '').trim().split('\n');
    const seen = execs(events)
      .filter((e) => e.command === '/bin/readlink')
      .flatMap((e) => [e.exe, e.cwd]);
    assert.deepEqual(seen, printed);
    assert.deepEqual(
      printed.slice(1, 6).filter((_, i) => i % 2 === 0),
      ['/usr/share', '/tmp/a/b', '/tmp/gone (deleted)'],
    );
  });

  it('completes a path deeper than the kernel walk from /proc while the process runs', async (t) => {
    if (!requireOrSkip(t, await ebpfMissing())) return;
    const deep = Array.from({ length: 80 }, (_, i) => `d${i}`).join('/');
    const { result, events } = await traced([
      'sh',
      '-c',
      `mkdir -p /tmp/${deep} && cd /tmp/${deep} && pwd -P && exec sleep 0.5`,
    ]);
    assert.equal(result.exitCode, 0, result.stderr ?? '');
    const sleep = execs(events).find((e) => e.command === 'sleep');
    assert.equal(sleep?.cwd, (result.stdout ?? '').trim());
  });

  it('completes an argv longer than the kernel copy from /proc, and says when it could not', async (t) => {
    if (!requireOrSkip(t, await ebpfMissing())) return;
    const long = 'a'.repeat(40_000);
    // The shell lives on (it waits for sleep): its argv is still in /proc when the capture looks.
    const { events } = await traced([
      'sh',
      '-c',
      `/bin/sh -c 'sleep 0.4; true' x ${long}; /bin/true ${long}`,
    ]);
    const sh = execs(events).find((e) => e.command === '/bin/sh' && e.args?.[2] === 'x');
    assert.equal(sh?.argv, 'full');
    assert.equal(sh.args?.[3], long);
    // /bin/true is gone within a millisecond: only the first 32 KiB, and the trace says so.
    const quick = execs(events).find((e) => e.command === '/bin/true');
    assert.equal(quick?.argv, 'truncated');
    const arg = quick.args?.[0] ?? '';
    assert.ok(arg.length > 30_000 && arg.length < long.length && long.startsWith(arg), `${arg.length}`);
  });

  it('loads its programs only while tracing, and releases them, their maps and the capture on stop', async (t) => {
    if (!requireOrSkip(t, await ebpfMissing())) return;
    const child = spawnHost('sleep', ['5'], { stdio: 'ignore' });
    const tracer = new EbpfTracer();
    await tracer.start({ initPid: child.pid as number });
    const capture = tracer.capturePid as number;
    // Its own programs, by id: another corral on this host may trace at the same time.
    const held = heldBpfPrograms(capture);
    const loaded = loadedBpfPrograms();
    assert.deepEqual(held.map((id) => loaded.get(id)).sort(), CORRAL_PROGRAMS);
    assert.ok(bpfDescriptors(capture) > held.length, 'and its maps and links');
    assert.equal(bpfDescriptors('self'), 0, 'corral itself holds none');
    // Nothing wakes per event, so nothing needs a real-time priority.
    assert.equal(tracer.realtime, null);
    assert.match(readFileSync(`/proc/${capture}/sched`, 'utf8'), /^policy\s*:\s*0$/m);
    await tracer.stop();
    assert.equal(running(capture), false, 'the capture has ended');
    const after = loadedBpfPrograms();
    assert.deepEqual(
      held.filter((id) => after.has(id)),
      [],
      'the kernel has unloaded them',
    );
    child.kill();
    const again = new EbpfTracer();
    await again.start({ initPid: process.pid });
    assert.ok(again.capturePid !== undefined && again.capturePid !== capture);
    const second = heldBpfPrograms(again.capturePid);
    await again.stop();
    const gone = loadedBpfPrograms();
    assert.deepEqual(
      second.filter((id) => gone.has(id)),
      [],
    );
  });

  it('places a child forked with CLONE_PARENT where its forker is, though its parent is not traced', async (t) => {
    if (!requireOrSkip(t, (await ebpfMissing()) ?? fx.missing())) return;
    // Traced from the host: the fixture's parent (this test) is outside what is traced.
    const proc = spawnHost(fx.bin, ['clone-parent'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const tracer = new EbpfTracer();
    const events: TraceEvent[] = [];
    tracer.onEvent((e) => events.push(e));
    await tracer.start({ initPid: proc.pid as number });
    proc.stdin?.end('go\n');
    await new Promise((r) => proc.once('close', r));
    await tracer.stop();
    const cloned = execs(events).find((e) => e.command === '/bin/true');
    assert.deepEqual(cloned?.args, ['clone-parent']);
    const fork = events.find((e): e is ForkEvent => e.type === 'fork' && e.pid === cloned?.pid);
    assert.equal(fork?.ppid, process.pid, 'its parent as the kernel says: this process');
  });

  it('attaches to a process whose main thread has already exited, and sees it through', async (t) => {
    if (!requireOrSkip(t, (await ebpfMissing()) ?? fx.missing())) return;
    const proc = spawnHost(fx.bin, ['leader-exits'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const pid = proc.pid as number;
    // Its main thread is a zombie (pthread_exit) while the other one waits for stdin.
    for (let i = 0; i < 200 && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++)
      await new Promise((r) => setTimeout(r, 5));
    const tracer = new EbpfTracer();
    const events: TraceEvent[] = [];
    tracer.onEvent((e) => events.push(e));
    await tracer.start({ initPid: pid });
    proc.stdin?.end();
    const code = await new Promise((r) => proc.once('exit', (c) => r(c)));
    await tracer.stop();
    assert.equal(code, 7);
    assert.ok(execs(events).some((e) => e.command === '/bin/true' && e.args?.[0] === 'leader-gone'));
    const end = events.find((e): e is ExitEvent => e.type === 'exit' && e.pid === pid);
    assert.equal(end?.exitCode, 7);
  });

  it('keeps every record while the ring buffer wraps around', async (t) => {
    if (!requireOrSkip(t, await ebpfMissing())) return;
    // 200 execs of 16 KiB arguments: 3 MiB through the 2 MiB ring, within a second.
    const pad = 'p'.repeat(16 << 10);
    const { events } = await traced(['sh', '-c', `for i in $(seq 200); do /bin/true "$i" ${pad}; done`]);
    const got = execs(events).flatMap((e) =>
      e.command === '/bin/true' && e.args?.[1] === pad ? [e.args[0]] : [],
    );
    assert.deepEqual(
      got,
      Array.from({ length: 200 }, (_, i) => String(i + 1)),
    );
    assert.ok(events.every((e) => e.type !== 'lost'));
  });
});
