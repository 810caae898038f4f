import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { corral, linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

const dir = mkdtempSync(path.join(tmpdir(), 'corral-seccomp-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const policy = (name: string, body: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(body));
  return file;
};

describe('corral run --seccomp (CLI)', () => {
  it('filters by default and lets --seccomp none switch the filter off', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const filtered = await corral(['run', '--', 'unshare', '-U', 'true']);
    assert.equal(filtered.code, 1);
    assert.match(filtered.stderr, /unshare failed: Operation not permitted/);
    const open = await corral(['run', '--seccomp', 'none', '--', 'unshare', '-U', 'true']);
    assert.equal(open.code, 0, open.stderr);
  });

  it('applies a policy file, and refuses one naming an unknown system call with exit 125', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const deny = policy('deny.json', { deny: ['mkdir', 'mkdirat'] });
    const r = await corral(['run', '--seccomp', deny, '--', 'mkdir', '/tmp/x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Operation not permitted/);
    const bad = await corral(['run', '--seccomp', policy('bad.json', { deny: ['mkdirr'] }), '--', 'true']);
    assert.equal(bad.code, 125);
    assert.match(
      bad.stderr,
      /^corral: seccomp: unknown system call in deny in policy file .*bad\.json: "mkdirr"$/m,
    );
    const missing = await corral(['run', '--seccomp', 'no-such-policy.json', '--', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /seccomp: policy file does not exist/);
  });

  it('reports the filter in corral capabilities', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const r = await corral(['capabilities', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      features: Record<string, { status: string; mechanism: string }>;
    };
    assert.equal(report.features.seccomp?.status, 'kernel');
    assert.match(report.features.seccomp?.mechanism ?? '', /ptrace/);
  });
});
