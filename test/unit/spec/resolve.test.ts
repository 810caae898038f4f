import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, resolveSpec } from '../../../src/index.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'E_CONFIG');
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('resolveSpec', () => {
  it('turns human units into numbers and freezes the result', () => {
    const r = resolveSpec({
      command: ['python3', 'job.py'],
      limits: {
        memory: '256Mi',
        cpus: '0.5',
        cpuTime: '10s',
        pids: 64,
        nofile: '256',
        fsize: '64Mi',
        timeout: '30s',
      },
    });
    assert.deepEqual(r.limits, {
      memoryBytes: 256 * 2 ** 20,
      cpus: 0.5,
      cpuTimeMs: 10_000,
      pids: 64,
      nofile: 256,
      fsizeBytes: 64 * 2 ** 20,
      timeoutMs: 30_000,
      outputBytes: 16 * 2 ** 20,
    });
    assert.ok(Object.isFrozen(r) && Object.isFrozen(r.limits) && Object.isFrozen(r.command));
  });

  it("gives the sandbox a small clean environment, never the caller's", () => {
    const r = resolveSpec(
      { command: ['env'], env: { FOO: 'bar' } },
      { hostEnv: { LANG: 'de_DE.UTF-8', TERM: 'xterm', AWS_SECRET_ACCESS_KEY: 'x' } },
    );
    assert.deepEqual(Object.keys(r.env).sort(), ['FOO', 'HOME', 'LANG', 'PATH', 'TERM']);
    assert.equal(r.env.LANG, 'de_DE.UTF-8');
    assert.equal(r.network, 'none');
    assert.equal(r.workdir, '/');
  });

  it('names the field and the value of a bad memory limit', () => {
    const e = configError(() => resolveSpec({ command: ['true'], limits: { memory: 'banana' } }));
    assert.equal(e.field, 'limits.memory');
    assert.match(e.message, /memory.*"banana"/);
  });

  it('refuses zero and negative limits', () => {
    for (const limits of [
      { memory: 0 },
      { memory: '-5Mi' },
      { pids: 0 },
      { pids: -1 },
      { cpus: 0 },
      { cpus: '-1' },
      { timeout: '0s' },
      { nofile: 0 },
      { fsize: 0 },
    ]) {
      const e = configError(() => resolveSpec({ command: ['true'], limits }));
      assert.match(e.field, /^limits\./);
    }
  });

  it('refuses an unknown network mode', () => {
    const e = configError(() => resolveSpec({ command: ['true'], network: 'bridge' as 'none' }));
    assert.equal(e.field, 'network');
    assert.match(e.message, /none.*host/);
  });

  it('refuses an empty command and a NUL byte in an argument', () => {
    configError(() => resolveSpec({ command: [] }));
    configError(() => resolveSpec({ command: [''] }));
    configError(() => resolveSpec({ command: ['echo', 'a\0b'] }));
  });

  it('refuses unknown options rather than ignoring them', () => {
    const e = configError(() => resolveSpec({ command: ['true'], limits: { memroy: '1Gi' } } as never));
    assert.match(e.message, /unknown option.*memroy/);
  });

  it('resolves a relative bind against cwd and refuses one that does not exist', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-spec-'));
    mkdirSync(path.join(dir, 'work'));
    const r = resolveSpec({ command: ['true'], rw: ['work'] }, { cwd: dir });
    assert.deepEqual(r.binds, [
      { source: path.join(dir, 'work'), target: path.join(dir, 'work'), mode: 'rw' },
    ]);
    const e = configError(() => resolveSpec({ command: ['true'], rw: ['missing/dir'] }, { cwd: dir }));
    assert.equal(e.field, '--rw');
    assert.match(e.message, /does not exist: "missing\/dir"/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('supports SRC:DEST binds and refuses relative or traversing targets', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-spec-'));
    const r = resolveSpec({ command: ['true'], ro: [`${dir}:/data`] });
    assert.deepEqual(r.binds[0], { source: dir, target: '/data', mode: 'ro' });
    configError(() => resolveSpec({ command: ['true'], ro: [`${dir}:data`] }));
    configError(() => resolveSpec({ command: ['true'], ro: [`${dir}:/a/../proc`] }));
    configError(() => resolveSpec({ command: ['true'], tmpfs: ['relative'] }));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to expose host /proc, /sys or /dev, or to mount over /proc and /dev', () => {
    configError(() => resolveSpec({ command: ['true'], ro: ['/proc'] }));
    configError(() => resolveSpec({ command: ['true'], rw: ['/sys/fs/cgroup'] }));
    configError(() => resolveSpec({ command: ['true'], tmpfs: ['/proc/sys'] }));
    configError(() => resolveSpec({ command: ['true'], tmpfs: ['/'] }));
  });

  it('refuses two mounts on the same target', () => {
    const e = configError(() => resolveSpec({ command: ['true'], tmpfs: ['/x', '/x'] }));
    assert.match(e.message, /same sandbox path: \/x/);
  });
});
