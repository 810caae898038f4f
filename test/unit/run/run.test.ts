import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run, spawn } from '../../../src/index.js';
import { decodeBwrapExit } from '../../../src/platform/linux/linux-sandbox.js';
import { decideReason } from '../../../src/run/result.js';
import { fakeLinuxBackend } from '../../helpers/fake-backend.js';

const noUsage = { cpuUserMs: null, cpuSystemMs: null, peakMemoryBytes: null, oomKilled: false };

describe('run()', () => {
  it('caps captured output at limits.output and says it truncated', async () => {
    const { backend } = fakeLinuxBackend({ stdout: 'x'.repeat(5000), stderr: 'short' });
    const r = await run({ command: ['yes'], limits: { output: 1024 } }, { backend });
    assert.equal(r.stdout?.length, 1024);
    assert.equal(r.stdoutTruncated, true);
    assert.equal(r.stderr, 'short');
    assert.equal(r.stderrTruncated, false);
  });

  it('rejects with the abort reason and kills the sandbox when aborted', async () => {
    const { backend, launcher } = fakeLinuxBackend({ runMs: Infinity });
    const ac = new AbortController();
    const pending = run({ command: ['sleep', '100'] }, { backend, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop it')), 20);
    await assert.rejects(pending, /stop it/);
    assert.ok(launcher.signals.some((s) => s.signal === 'SIGKILL'));
  });

  it('refuses to start when already aborted, launching nothing', async () => {
    const { backend, launcher } = fakeLinuxBackend();
    await assert.rejects(run({ command: ['true'] }, { backend, signal: AbortSignal.abort() }), /abort/i);
    assert.equal(launcher.launches.length, 0);
  });

  it('feeds stdin to the command', async () => {
    const { backend } = fakeLinuxBackend({ runMs: 5 });
    const proc = spawn({ command: ['cat'] }, { backend, stdout: 'ignore', stderr: 'ignore' });
    await proc.start();
    proc.stdin?.end('data');
    const r = await proc.wait();
    assert.equal(r.exitCode, 0);
  });
});

describe('reasons', () => {
  const limits = { outputBytes: 1 } as const;
  it('reads 128+N from bubblewrap as death by signal N', () => {
    assert.deepEqual(decodeBwrapExit(137, null), { exitCode: 137, signal: 'SIGKILL' });
    assert.deepEqual(decodeBwrapExit(152, null), { exitCode: 152, signal: 'SIGXCPU' });
    assert.deepEqual(decodeBwrapExit(3, null), { exitCode: 3, signal: null });
    assert.deepEqual(decodeBwrapExit(null, 'SIGKILL'), { exitCode: null, signal: 'SIGKILL' });
  });

  it('puts the timeout first, then memory, cpu-time and file-size, then a plain signal', () => {
    const kill = { exitCode: 137, signal: 'SIGKILL' as const };
    assert.equal(
      decideReason({ exit: kill, usage: { ...noUsage, oomKilled: true }, timedOut: true, limits }),
      'timeout',
    );
    assert.equal(
      decideReason({ exit: kill, usage: { ...noUsage, oomKilled: true }, timedOut: false, limits }),
      'memory',
    );
    assert.equal(
      decideReason({
        exit: { exitCode: 152, signal: 'SIGXCPU' },
        usage: noUsage,
        timedOut: false,
        limits: { ...limits, cpuTimeMs: 1000 },
      }),
      'cpu-time',
    );
    assert.equal(
      decideReason({
        exit: kill,
        usage: { ...noUsage, cpuUserMs: 2100, cpuSystemMs: 0 },
        timedOut: false,
        limits: { ...limits, cpuTimeMs: 1000 },
      }),
      'cpu-time',
    );
    assert.equal(
      decideReason({
        exit: { exitCode: 153, signal: 'SIGXFSZ' },
        usage: noUsage,
        timedOut: false,
        limits: { ...limits, fsizeBytes: 1 },
      }),
      'file-size',
    );
    assert.equal(decideReason({ exit: kill, usage: noUsage, timedOut: false, limits }), 'signal');
    assert.equal(
      decideReason({
        exit: { exitCode: 0, signal: null },
        usage: { ...noUsage, oomKilled: true },
        timedOut: false,
        limits,
      }),
      'exit',
    );
  });
});
