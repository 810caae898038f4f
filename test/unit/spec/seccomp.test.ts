import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, resolveSpec } from '../../../src/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'corral-seccomp-spec-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, body: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, body);
  return p;
};
const seccompOf = (seccomp: unknown) => resolveSpec({ command: ['true'], seccomp } as never).seccomp;
const rejects = (seccomp: unknown, pattern: RegExp) =>
  assert.throws(
    () => seccompOf(seccomp),
    (e: unknown) => e instanceof ConfigError && e.field === 'seccomp' && pattern.test(e.message),
  );

describe('the seccomp option', () => {
  it('defaults to corral’s deny list, and accepts default and none by name', () => {
    assert.equal(resolveSpec({ command: ['true'] }).seccomp.mode, 'default');
    assert.equal(seccompOf('default').mode, 'default');
    assert.equal(seccompOf('none').mode, 'none');
  });

  it('reads a JSON policy file relative to the working directory', () => {
    file('p.json', JSON.stringify({ deny: ['personality', 'chroot'], allow: ['ptrace'] }));
    const s = resolveSpec({ command: ['true'], seccomp: 'p.json' }, { cwd: dir }).seccomp;
    assert.deepEqual(
      { mode: s.mode, deny: s.deny, allow: s.allow, source: s.source },
      {
        mode: 'custom',
        deny: ['personality', 'chroot'],
        allow: ['ptrace'],
        source: path.join(dir, 'p.json'),
      },
    );
  });

  it('names the unknown system call and the file it came from', () => {
    const p = file('bad.json', JSON.stringify({ deny: ['mount', 'frobnicate'] }));
    rejects(p, /unknown system call in deny in policy file .*bad\.json: "frobnicate"/);
    rejects({ allow: ['openat', 'no_such_call'] }, /unknown system call in allow: "no_such_call"/);
  });

  it('says clearly what is wrong with a file that is missing, not JSON, or shaped wrongly', () => {
    rejects(path.join(dir, 'missing.json'), /policy file does not exist/);
    rejects(file('junk.json', '{ deny: ['), /not valid JSON/);
    rejects(file('shape.json', JSON.stringify({ deny: 'mount' })), /deny: .* in policy file/);
    rejects(file('keys.json', JSON.stringify({ denied: ['mount'] })), /unknown key\(s\) denied/);
    rejects(dir, /not a regular file/);
    rejects('', /must not be empty/);
    rejects('a\0b', /NUL/);
  });

  it('refuses contradictions instead of guessing', () => {
    rejects({ deny: ['mount'], allow: ['mount'] }, /"mount" is in both deny and allow/);
    rejects({ default: 'deny', allow: ['read'], deny: ['mount'] }, /only an allow list makes sense/);
    rejects({ allow: ['clone3'] }, /allowing clone3 would let namespaces be created/);
    assert.equal(seccompOf({ allow: ['clone3', 'unshare'] }).mode, 'custom');
  });
});
