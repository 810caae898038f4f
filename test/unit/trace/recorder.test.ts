import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readTrace } from '../../../src/trace/jsonl-reader.js';
import { TraceRecorder } from '../../../src/trace/recorder.js';
import type { TraceRecord } from '../../../src/trace/record.js';
import { FakeTracer, execEvent } from '../../helpers/fake-tracer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'corral-rec-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('trace recorder', () => {
  it('writes a start line, every event and an end line with the counts, and returns a summary', async () => {
    const file = path.join(dir, 'a.jsonl');
    const tracer = new FakeTracer();
    const live: string[] = [];
    const rec = new TraceRecorder({ tracer, file, onEvent: (e) => live.push(e.type) });
    await rec.start({ initPid: 10, cgroupName: 'run-x' });
    tracer.push(execEvent(['pip', 'install', 'x']));
    tracer.push({ type: 'fork', timestamp: 't', sandbox: 'run-x', pid: 11, ppid: 10 });
    const summary = await rec.stop();
    assert.deepEqual(live, ['exec', 'fork']);
    assert.equal(summary.backend, 'fake');
    assert.equal(summary.flagged['package-install'].count, 1);
    const records: TraceRecord[] = [];
    for await (const r of readTrace(file)) records.push(r);
    assert.deepEqual(
      records.map((r) => r.type),
      ['start', 'exec', 'fork', 'end'],
    );
    const [first, , , last] = records;
    assert.ok(first?.type === 'start' && last?.type === 'end');
    assert.deepEqual([first.sandbox, first.initPid, first.backend], ['run-x', 10, 'fake']);
    assert.deepEqual(last.counts, { execs: 1, execsWithArgv: 1, forks: 1, exits: 0, lost: 0 });
    assert.equal(tracer.closed, 1);
  });

  it('makes no file when it was never started, and stops its tracer anyway', async () => {
    const file = path.join(dir, 'never.jsonl');
    const tracer = new FakeTracer();
    const rec = new TraceRecorder({ tracer, file });
    await rec.stop();
    await rec.stop();
    assert.equal(existsSync(file), false);
  });

  it('appends a second trace to the same file when asked (a restarted container)', async () => {
    const file = path.join(dir, 'b.jsonl');
    for (const append of [false, true]) {
      const rec = new TraceRecorder({ tracer: new FakeTracer(), file, append });
      await rec.start({ initPid: 10 });
      await rec.stop();
    }
    const types: string[] = [];
    for await (const r of readTrace(file)) types.push(r.type);
    assert.deepEqual(types, ['start', 'end', 'start', 'end']);
  });
});
