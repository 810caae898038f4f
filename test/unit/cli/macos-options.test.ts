import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { ConfigError, resolveSpec } from '../../../src/index.js';
import { addMacosOptions, macosFromOptions } from '../../../src/cli/options/macos-options.js';

function parse(argv: string[]): Record<string, unknown> {
  const cmd = addMacosOptions(new Command().exitOverride());
  cmd.parse(argv, { from: 'user' });
  return cmd.opts();
}

describe('macOS CLI flags', () => {
  it('turn listen/connect ports, GPU and address space into the spec, validated by resolveSpec', () => {
    const spec = macosFromOptions(
      parse([
        '--listen-port',
        '8080,8081',
        '--connect-port',
        '5432',
        '--gpu',
        'mps',
        '--address-space',
        '8Gi',
      ]),
    );
    assert.deepEqual(spec, {
      macos: { localhost: { bind: [8080, 8081], connect: [5432] }, gpu: 'mps', addressSpace: '8Gi' },
    });
    assert.equal(resolveSpec({ command: ['true'], ...spec }).macos?.addressSpaceBytes, 8 * 2 ** 30);
  });

  it('add nothing to the spec when none is given', () => {
    assert.deepEqual(macosFromOptions(parse([])), {});
  });

  it('refuse a port that is not a number, naming the flag', () => {
    assert.throws(
      () => macosFromOptions(parse(['--listen-port', 'http'])),
      (err: unknown) => err instanceof ConfigError && err.field === '--listen-port',
    );
    assert.throws(
      () => resolveSpec({ command: ['true'], ...macosFromOptions(parse(['--gpu', 'cuda'])) }),
      /macos\.gpu: must be "none", "metal" or "mps"/,
    );
  });
});
