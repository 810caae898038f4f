import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TEST_USER_UID, cgroupsMissing, corral, isRoot, linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

describe('corral run (CLI)', () => {
  it("streams output through and exits with the command's own status", async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await corral(['run', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /^err$/m);
  });

  it('passes stdin to the command and accepts options after the command name', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await corral(['run', 'sh', '-c', 'tr a-z A-Z'], { input: 'shout\n' });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'SHOUT\n');
  });

  it('exits 128+N when the command dies of signal N', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await corral(['run', '--', 'sh', '-c', 'kill -SEGV $$']);
    assert.equal(r.code, 139);
  });

  it('exits 127 for a missing command and 126 for a file that is not executable', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const missing = await corral(['run', '--', 'no-such-command-here']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /command not found in the sandbox: "no-such-command-here"/);
    const notExec = await corral(['run', '--', '/etc/passwd']);
    assert.equal(notExec.code, 126);
    assert.match(notExec.stderr, /not executable/);
  });

  it('names the limit and its value on stderr when a limit ends the run, and writes the result file', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing() ?? cgroupsMissing())) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-cli-'));
    const file = path.join(dir, 'result.json');
    try {
      const r = await corral([
        'run',
        '--memory',
        '64Mi',
        '--result-file',
        file,
        '--',
        'python3',
        '-c',
        'b = bytearray(300 << 20)',
      ]);
      assert.equal(r.code, 137);
      assert.match(r.stderr, /^corral: killed: memory limit 64Mi exceeded \(peak \d+(\.\d)?Mi\)$/m);
      const result = JSON.parse(readFileSync(file, 'utf8'));
      assert.equal(result.reason, 'memory');
      assert.equal(result.exitCode, 137);
      assert.equal(result.signal, 'SIGKILL');
      assert.equal(result.limits.memory.enforcement, 'kernel');
      for (const k of ['wallMs', 'cpuUserMs', 'cpuSystemMs', 'peakMemoryBytes'])
        assert.equal(typeof result[k], 'number', k);
      const timeout = await corral(['run', '--timeout', '300ms', '--', 'sleep', '5']);
      assert.equal(timeout.code, 137);
      assert.match(timeout.stderr, /^corral: killed: timeout 300ms reached$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad input with a clear message and exit 125', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const cases: [string[], RegExp][] = [
      [['run', '--memory', 'banana', '--', 'true'], /memory: not a size.*"banana"/],
      [['run', '--memory', '-64Mi', '--', 'true'], /memory/],
      [['run', '--pids', '0', '--', 'true'], /pids: must be a whole number from 1.*"0"/],
      [['run', '--cpus', '0', '--', 'true'], /cpus: .*"0"/],
      [['run', '--timeout', '-1s', '--', 'true'], /timeout/],
      [['run', '--net', 'bridge', '--', 'true'], /network: must be "none" or "host", got "bridge"/],
      [
        ['run', '--rw', 'relative/does-not-exist', '--', 'true'],
        /--rw: host path does not exist: "relative\/does-not-exist"/,
      ],
      [['run'], /missing required argument 'command'/],
      [['run', '--', ''], /command: the program name is empty/],
      [['run', '--env-file', '/nonexistent/env', '--', 'true'], /--env-file: cannot read \/nonexistent\/env/],
      [['run', '--user', 'root', '--', 'true'], /--user: expected UID or UID:GID/],
      [['run', '--frobnicate', '--', 'true'], /unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = await corral(args);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.match(r.stderr, /^corral: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('reads --env and --env-file, and never passes its own environment on', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-cli-'));
    const envFile = path.join(dir, 'env');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\n\nSPACED=a b\n');
    try {
      const r = await corral(['run', '--env-file', envFile, '-e', 'DIRECT=1', '-e', 'COPIED', '--', 'env'], {
        env: { COPIED: 'from-host', SECRET_TOKEN: 'x' },
      });
      assert.equal(r.code, 0, r.stderr);
      for (const line of ['FROM_FILE=yes', 'SPACED=a b', 'DIRECT=1', 'COPIED=from-host'])
        assert.match(r.stdout, new RegExp(`^${line}$`, 'm'));
      assert.doesNotMatch(r.stdout, /SECRET_TOKEN/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('corral capabilities (CLI)', () => {
  it('reports every mechanism with a status, and as JSON', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await corral(['capabilities', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    for (const k of ['memory', 'cpus', 'pids', 'cpuTime', 'nofile', 'fsize', 'timeout']) {
      assert.ok(['kernel', 'userspace', 'unavailable'].includes(report.limits[k]?.status), k);
    }
    for (const ns of ['user', 'pid', 'network', 'ipc', 'uts'])
      assert.equal(report.isolation[`${ns}-namespace`].status, 'kernel');
    const human = await corral(['capabilities']);
    assert.match(human.stdout, /^LIMITS$/m);
    assert.match(human.stdout, /^ {2}memory\s+(kernel|userspace|unavailable)\s+/m);
  });
});

describe('corral run and signals (CLI)', () => {
  it('passes Ctrl-C on to the command and exits with its status', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const { spawn } = await import('node:child_process');
    const cli = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');
    const p = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--',
        cli,
        'run',
        '--',
        'sh',
        '-c',
        'trap "echo got-int; exit 3" INT; echo ready; sleep 20 & wait',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    p.kill('SIGINT');
    const code = await new Promise<number | null>((r) => p.on('close', (c) => r(c)));
    assert.equal(out, 'ready\ngot-int\n');
    assert.equal(code, 3);
  });
});

describe('corral run without cgroup access (CLI, as an unprivileged user)', () => {
  it('refuses a limit it cannot enforce with exit 125, and runs with --best-effort listing it', async (t) => {
    if (
      !requireOrSkip(t, linuxSandboxMissing() ?? (isRoot ? undefined : 'needs root to switch to a test user'))
    )
      return;
    const refused = await corral(['run', '--pids', '10', '--', 'true'], { asUser: true });
    if (!/cannot be enforced/.test(refused.stderr) && refused.code === 0) {
      // A host that delegates cgroups to every user can enforce it: nothing to refuse here.
      t.skip('this host gives unprivileged users a cgroup with the pids controller');
      return;
    }
    assert.equal(refused.code, 125, refused.stderr);
    assert.match(
      refused.stderr,
      /^corral: --pids cannot be enforced on this host: .+; fix: .+--best-effort/m,
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-be-'));
    chmodSync(dir, 0o777);
    const file = path.join(dir, 'r.json');
    try {
      const r = await corral(
        ['run', '--pids', '10', '--best-effort', '--result-file', file, '--', 'id', '-u'],
        { asUser: true },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), String(TEST_USER_UID));
      assert.match(r.stderr, /^corral: warning: pids is not enforced: /m);
      const result = JSON.parse(readFileSync(file, 'utf8'));
      assert.deepEqual(
        result.notEnforced.map((n: { limit: string }) => n.limit),
        ['pids'],
      );
      assert.equal(result.limits.pids.enforcement, 'none');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
