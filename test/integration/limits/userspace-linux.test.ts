import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findHostTool } from '../../../src/platform/linux/host-tools.js';
import { isRoot, linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

/**
 * The userspace limiters on the real kernel, as a user without cgroups gets them. The tests run
 * as root, so each scenario runs in a child process under an unprivileged uid that can write no
 * cgroup: corral must fall back to the monitors and say so.
 */
const UID = 2_000_000_001;
const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/unprivileged-limits.mts');
const INTERVAL_MS = 500;

function missing(): string | undefined {
  const base = linuxSandboxMissing();
  if (base) return base;
  if (!findHostTool('python3')) return 'python3 is not installed (the scenarios use it)';
  if (!isRoot) return 'needs root to switch to an unprivileged uid (setpriv)';
  const setpriv = findHostTool('setpriv');
  if (!setpriv) return 'setpriv(1) is not installed (apt-get install util-linux)';
  const readable = spawnSync(setpriv, [...asUser(), '/bin/sh', '-c', 'test -r "$1"', 'sh', FIXTURE]);
  if (readable.status !== 0)
    return `uid ${UID} cannot read the checkout (${FIXTURE}): make its directories world-searchable`;
  const bwrap = findHostTool('bwrap') as string;
  const r = spawnSync(setpriv, [...asUser(), bwrap, '--unshare-user', '--ro-bind', '/', '/', 'true']);
  if (r.status !== 0) return `bubblewrap cannot run as uid ${UID}: ${r.stderr.toString().trim()}`;
  return undefined;
}

function asUser(): string[] {
  return ['--reuid', String(UID), '--regid', String(UID), '--clear-groups'];
}

function scenario(name: string): Record<string, unknown>[] {
  const r = spawnSync(
    findHostTool('setpriv') as string,
    [...asUser(), process.execPath, '--import', 'tsx', FIXTURE, name],
    {
      cwd: path.resolve(import.meta.dirname, '../../..'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, `scenario ${name} failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('userspace limiters on Linux without cgroups (unprivileged user)', () => {
  it('reports memory and cpus as userspace and pids as unavailable', (t) => {
    if (!requireOrSkip(t, missing())) return;
    const [caps] = scenario('capabilities') as [Record<string, { status: string; mechanism: string }>];
    assert.equal(caps.memory?.status, 'userspace');
    assert.match(caps.memory?.mechanism ?? '', /RSS watchdog/);
    assert.equal(caps.cpus?.status, 'userspace');
    assert.match(caps.cpus?.mechanism ?? '', /SIGSTOP\/SIGCONT/);
    assert.equal(caps.pids?.status, 'unavailable');
  });

  it('gives a spinning loop 35-65% of one core over 5 s under --cpus 0.5', (t) => {
    if (!requireOrSkip(t, missing())) return;
    const [r] = scenario('cpus') as [
      { cpuSeconds: number; wallSeconds: number; report: { enforcement: string }; reason: string },
    ];
    assert.equal(r.reason, 'exit');
    assert.equal(r.report.enforcement, 'userspace');
    const share = r.cpuSeconds / r.wallSeconds;
    t.diagnostic(`cpu share ${share.toFixed(3)} (${r.cpuSeconds} s over ${r.wallSeconds.toFixed(2)} s)`);
    assert.ok(share >= 0.35 && share <= 0.65, `share ${share}`);
  });

  it('kills a 300 MB allocator under --memory 100Mi with reason memory within one interval', (t) => {
    if (!requireOrSkip(t, missing())) return;
    const runs = scenario('memory') as {
      reason: string;
      exitCode: number;
      latencyMs: number;
      result: { limits: { memory: { enforcement: string } }; message: string };
    }[];
    assert.equal(runs.length, 3);
    for (const r of runs) {
      assert.equal(r.reason, 'memory');
      assert.equal(r.exitCode, 137);
      assert.equal(r.result.limits.memory.enforcement, 'userspace');
      assert.match(r.result.message, /^memory limit 100Mi exceeded/);
      t.diagnostic(`kill ${r.latencyMs.toFixed(1)} ms after the allocator crossed 100Mi`);
      // One interval; the 25 ms is the sample itself and the timer's wake-up, not slack in the rule.
      assert.ok(r.latencyMs >= 0 && r.latencyMs <= INTERVAL_MS + 25, `latency ${r.latencyMs} ms`);
    }
  });

  it('resumes a process the throttle had stopped when the handle is released', (t) => {
    if (!requireOrSkip(t, missing())) return;
    const [r] = scenario('release') as [
      { seenStopped: boolean; afterRelease: string; cpuGainedMs: number; stoppedAfter: boolean },
    ];
    assert.ok(r.seenStopped, 'the throttle stopped the spinner (state T)');
    assert.equal(r.afterRelease, 'R');
    assert.equal(r.stoppedAfter, false);
    assert.ok(r.cpuGainedMs >= 300, `it runs freely again: ${r.cpuGainedMs} ms of CPU in 500 ms`);
  });

  it('ends a sandbox whose tree is stopped by the throttle', (t) => {
    if (!requireOrSkip(t, missing())) return;
    const [r] = scenario('sandbox-release') as [{ stopped: boolean; reason: string; exitCode: number }];
    assert.ok(r.stopped);
    assert.equal(r.exitCode, 137);
  });
});
