import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveSpec } from '../../../src/index.js';

describe('resolveSpec: macOS-only settings', () => {
  it('leaves them out entirely when the spec has none (the Linux path is unchanged)', () => {
    assert.equal('macos' in resolveSpec({ command: ['true'] }), false);
  });

  it('resolves ports (deduplicated), GPU and address space with defaults', () => {
    const r = resolveSpec({
      command: ['true'],
      macos: { localhost: { bind: [8080, 8080], connect: [5432] }, gpu: 'mps', addressSpace: '4Gi' },
    });
    assert.deepEqual(r.macos, {
      localhost: { bind: [8080], connect: [5432] },
      gpu: 'mps',
      addressSpaceBytes: 4 * 2 ** 30,
    });
    assert.deepEqual(resolveSpec({ command: ['true'], macos: {} }).macos, {
      localhost: { bind: [], connect: [] },
      gpu: 'none',
      addressSpaceBytes: undefined,
    });
  });

  it('rejects bad ports, unknown GPU modes and unknown keys, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ localhost: { bind: [0] } }, /macos\.localhost\.bind: ports are 1-65535/],
      [{ localhost: { connect: [70000] } }, /macos\.localhost\.connect: ports are 1-65535/],
      [{ localhost: { bind: [80.5] } }, /whole numbers/],
      [{ gpu: 'cuda' }, /macos\.gpu: must be "none", "metal" or "mps"/],
      [{ seatbelt: '(allow default)' }, /unknown option\(s\): seatbelt/],
      [{ addressSpace: 'lots' }, /macos\.addressSpace: not a size/],
    ];
    for (const [macos, message] of bad) {
      assert.throws(
        () => resolveSpec({ command: ['true'], macos } as never),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
        JSON.stringify(macos),
      );
    }
  });

  it('refuses localhost ports together with network host, where they would mean nothing', () => {
    assert.throws(
      () => resolveSpec({ command: ['true'], network: 'host', macos: { localhost: { bind: [3000] } } }),
      (err: unknown) => err instanceof ConfigError && err.field === 'macos.localhost',
    );
  });
});
