import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsupportedError } from '../../../../src/errors.js';
import { LinuxBackend, SandboxProcess, resolveSpec, type SandboxSpec } from '../../../../src/index.js';
import type {
  KillEvent,
  ResourceConfig,
  ResourceHandle,
  ResourceLimiter,
  ResourceStats,
} from '../../../../src/limits/types.js';
import { fakeLauncher } from '../../../helpers/fake-bwrap.js';

const MiB = 2 ** 20;

/** A limiter that records what it was asked for and can fire its kill on demand. */
class RecordingLimiter implements ResourceLimiter {
  readonly name = 'recording';
  readonly supported = ['memory', 'cpus'] as const;
  readonly configs: ResourceConfig[] = [];
  readonly assigned: number[] = [];
  released = 0;
  private listeners: ((e: KillEvent) => void)[] = [];

  apply(config: ResourceConfig): ResourceHandle {
    this.configs.push(config);
    const stats: ResourceStats = {
      cpuUserMs: 120,
      cpuSystemMs: 30,
      cpuPercent: 50,
      memoryBytes: 10 * MiB,
      peakMemoryBytes: 150 * MiB,
      pids: 2,
      samples: 3,
      throttles: 0,
      throttledMs: 0,
      stopped: false,
      killed: null,
    };
    return {
      config: { ...config, intervalMs: config.intervalMs ?? 500 },
      assign: (pid) => void this.assigned.push(pid),
      stats: () => stats,
      onKill: (l) => void this.listeners.push(l),
      release: async () => void this.released++,
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  kill(): void {
    for (const l of this.listeners)
      l({ reason: 'memory', atMs: 1, rssBytes: 150 * MiB, limitBytes: 100 * MiB });
  }
}

function backend(limiter: ResourceLimiter, runMs = 0): LinuxBackend {
  return new LinuxBackend({
    launcher: fakeLauncher({ runMs }),
    cgroups: () => ({
      driver: undefined,
      problems: [{ reason: 'cgroup v1 hierarchies are not writable by uid 1000', fix: 'run corral as root' }],
    }),
    bwrapPath: '/usr/bin/bwrap',
    prlimitPath: '/usr/bin/prlimit',
    hostUid: 1000,
    hostGid: 1000,
    userspaceLimiter: limiter,
  });
}

async function runWith(limiter: RecordingLimiter, spec: SandboxSpec, runMs = 0) {
  const proc = new SandboxProcess(resolveSpec(spec), backend(limiter, runMs), {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  });
  await proc.start();
  return proc;
}

describe('LinuxBackend without cgroups: userspace fallback', () => {
  it('holds memory and cpus with the userspace limiter and reports them as userspace', async () => {
    const limiter = new RecordingLimiter();
    const proc = await runWith(limiter, {
      command: ['sh', '-c', 'true'],
      limits: { memory: '100Mi', cpus: 0.5 },
    });
    const r = await proc.wait();
    assert.deepEqual(limiter.configs, [{ memoryBytes: 100 * MiB, cpus: 0.5, intervalMs: 500 }]);
    assert.equal(limiter.assigned.length, 1);
    assert.ok(limiter.assigned[0] !== undefined && limiter.assigned[0] >= 70_000_000, 'the sandbox init');
    assert.equal(limiter.released, 1, 'released when the run finished');
    assert.equal(r.limits.memory?.enforcement, 'userspace');
    assert.match(r.limits.memory?.mechanism ?? '', /RSS watchdog/);
    assert.match(r.limits.memory?.note ?? '', /not writable by uid 1000/);
    assert.equal(r.limits.cpus?.enforcement, 'userspace');
    assert.deepEqual(r.notEnforced, []);
    // Without a cgroup, accounting comes from the monitor's samples.
    assert.equal(r.cpuUserMs, 120);
    assert.equal(r.peakMemoryBytes, 150 * MiB);
  });

  it('ends the run with reason memory when the watchdog kills', async () => {
    const limiter = new RecordingLimiter();
    const proc = await runWith(limiter, { command: ['sh'], limits: { memory: '100Mi' } }, Infinity);
    limiter.kill();
    const r = await proc.wait();
    assert.equal(r.reason, 'memory');
    assert.equal(r.exitCode, 137);
    assert.match(r.message ?? '', /^memory limit 100Mi exceeded \(peak 150Mi\)/);
  });

  it('still refuses pids: there is no honest userspace process limit', async () => {
    const limiter = new RecordingLimiter();
    await assert.rejects(
      runWith(limiter, { command: ['sh'], limits: { memory: '100Mi', pids: 32 } }),
      (err: unknown) => err instanceof UnsupportedError && /--pids/.test(err.message),
    );
    assert.equal(limiter.configs.length, 0, 'nothing was started');
  });

  it('with bestEffort lists pids as not enforced and still holds memory', async () => {
    const limiter = new RecordingLimiter();
    const proc = await runWith(limiter, {
      command: ['sh'],
      limits: { memory: '100Mi', pids: 32 },
      bestEffort: true,
    });
    const r = await proc.wait();
    assert.deepEqual(
      r.notEnforced.map((n) => n.limit),
      ['pids'],
    );
    assert.equal(r.limits.pids?.enforcement, 'none');
    assert.equal(r.limits.memory?.enforcement, 'userspace');
  });

  it('starts no monitor when no limit needs one', async () => {
    const limiter = new RecordingLimiter();
    const proc = await runWith(limiter, { command: ['sh'], limits: { nofile: 64 } });
    await proc.wait();
    assert.equal(limiter.configs.length, 0);
  });
});
