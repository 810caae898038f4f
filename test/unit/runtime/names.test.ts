import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultDataDir } from '../../../src/runtime/data-dir.js';
import { generateName, validateName } from '../../../src/runtime/names.js';
import { parseSignal } from '../../../src/runtime/signals.js';

describe('container names', () => {
  it('accepts docker-like names', () => {
    for (const n of ['web', 'web-1', 'a.b_c', 'X9', generateName()])
      assert.equal(validateName('container', n), n);
  });
  it('refuses names that could leave the data dir, hide, or run long, saying why', () => {
    for (const n of ['', '..', '../x', 'a/b', '.hidden', 'a..b', '-x', 'sp ace', 'x'.repeat(65), 'nul\0']) {
      assert.throws(() => validateName('container', n), /container name/);
    }
  });
});

describe('signal names', () => {
  it('accepts SIGTERM, TERM, term and 15 as the same signal', () => {
    for (const s of ['SIGTERM', 'TERM', 'term', '15', 15]) assert.equal(parseSignal(s), 'SIGTERM');
  });
  it('refuses unknown signals with the value in the message', () => {
    for (const s of ['SIGBANANA', '999', '', 'KILL9']) assert.throws(() => parseSignal(s), /unknown signal/);
  });
});

describe('data dir', () => {
  it('prefers CORRAL_DATA_DIR, then /var/lib/corral for root, then XDG_DATA_HOME', () => {
    assert.equal(defaultDataDir({ CORRAL_DATA_DIR: '/x/y' }, 1000), '/x/y');
    assert.equal(defaultDataDir({}, 0), '/var/lib/corral');
    assert.equal(defaultDataDir({ XDG_DATA_HOME: '/home/u/.data' }, 1000), '/home/u/.data/corral');
    assert.equal(defaultDataDir({ HOME: '/home/u' }, 1000), '/home/u/.local/share/corral');
  });
});
