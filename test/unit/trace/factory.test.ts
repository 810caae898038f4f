import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCorralError } from '../../../src/errors.js';
import type { ProbeResult, TracerBackend } from '../../../src/trace/backend.js';
import { selectTracer, tracerCapabilities } from '../../../src/trace/factory.js';
import { StubTracer } from '../../../src/trace/stub-tracer.js';
import { FakeTracer } from '../../helpers/fake-tracer.js';

function backend(
  name: string,
  probe: ProbeResult,
  kind: 'kernel' | 'userspace' = 'kernel',
): TracerBackend & { probes: number } {
  const b = {
    name,
    mechanism: `${name} mechanism`,
    kind,
    probes: 0,
    probe: () => {
      b.probes++;
      return Promise.resolve(probe);
    },
    create: () => Object.assign(new FakeTracer(), { made: name }),
  };
  return b;
}
const no = (reason: string): ProbeResult => ({ ok: false, reason, fix: `fix ${reason}` });

describe('tracer factory', () => {
  it('picks the first backend that works and says why the better ones do not', async () => {
    const backends = [
      backend('conn', no('not root')),
      backend('poll', { ok: true }, 'userspace'),
      backend('other', { ok: true }),
    ];
    const choice = await selectTracer({ backends });
    assert.equal((choice.tracer as FakeTracer & { made: string }).made, 'poll');
    assert.deepEqual(choice.unavailable, [{ name: 'conn', reason: 'not root', fix: 'fix not root' }]);
    assert.equal(backends[2]?.probes, 0);
  });

  it('returns a stub that refuses to start, with every reason, when nothing works', async () => {
    const { tracer } = await selectTracer({ backends: [backend('a', no('x')), backend('b', no('y'))] });
    assert.ok(tracer instanceof StubTracer);
    assert.equal(tracer.backend, 'stub');
    await assert.rejects(
      tracer.start({ initPid: 1 }),
      (e) =>
        isCorralError(e) &&
        e.code === 'E_UNSUPPORTED' &&
        /a: x; b: y/.test(e.message) &&
        /fix x/.test(e.message),
    );
    const none = await selectTracer({ backends: [] });
    await assert.rejects(none.tracer.start({ initPid: 1 }), /no exec tracer for this OS/);
  });

  it('uses the backend asked for, and rejects a name it does not know', async () => {
    const backends = [backend('conn', { ok: true }), backend('poll', { ok: true })];
    const choice = await selectTracer({ backends, backend: 'poll' });
    assert.equal((choice.tracer as FakeTracer & { made: string }).made, 'poll');
    await assert.rejects(
      selectTracer({ backends, backend: 'ebpf' }),
      /unknown tracer backend "ebpf"; available here: conn, poll/,
    );
  });

  it('reports the tracer in use and each backend, with reasons and fixes, for the capability report', async () => {
    const caps = await tracerCapabilities([
      backend('conn', no('needs root')),
      backend('poll', { ok: true }, 'userspace'),
      backend('late', { ok: true }),
    ]);
    assert.deepEqual(caps.trace, { status: 'userspace', mechanism: 'poll: poll mechanism' });
    assert.deepEqual(caps['trace.conn'], {
      status: 'unavailable',
      mechanism: 'conn mechanism',
      reason: 'needs root',
      fix: 'fix needs root',
    });
    assert.match(caps['trace.late']?.reason ?? '', /works, but poll is preferred/);
    assert.equal((await tracerCapabilities([])).trace?.status, 'unavailable');
  });
});
