import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SandboxView } from '../../../../src/platform/linux/sandbox-view.js';

describe('the sandbox view used before launch', () => {
  const view = new SandboxView('/', [
    { kind: 'tmpfs', target: '/tmp' },
    { kind: 'bind', target: '/tmp/tools', source: '/usr/bin' },
  ]);

  it('finds a command inside a bind mounted under a tmpfs', () => {
    const hit = view.lookup('/tmp/tools/env');
    assert.equal(hit.found, true);
    assert.equal(hit.found && hit.hostPath, '/usr/bin/env');
  });

  it('still finds nothing else inside the tmpfs, which starts empty', () => {
    assert.equal(view.lookup('/tmp/other/env').found, false);
    assert.equal(view.lookup('/tmp/tools/no-such-program').found, false);
    assert.equal(view.lookup('/tmp').found, true);
  });
});
