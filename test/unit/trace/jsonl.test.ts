import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isCorralError } from '../../../src/errors.js';
import { TraceWriter } from '../../../src/trace/jsonl-writer.js';
import { readTrace } from '../../../src/trace/jsonl-reader.js';
import type { TraceRecord } from '../../../src/trace/record.js';
import { execEvent } from '../../helpers/fake-tracer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'corral-trace-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => path.join(dir, `t${++n}.jsonl`);
const start: TraceRecord = { type: 'start', timestamp: 't', sandbox: 'b', backend: 'fake', initPid: 1 };
const end: TraceRecord = {
  type: 'end',
  timestamp: 't',
  sandbox: 'b',
  counts: { execs: 1, execsWithArgv: 1, forks: 0, exits: 0, lost: 0 },
};

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  for (const t0 = Date.now(); !ok(); await sleep(10))
    if (Date.now() - t0 > ms) throw new Error(`not reached within ${ms} ms`);
}

async function collect(it: AsyncIterable<TraceRecord>): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('JSONL trace files', () => {
  it('round-trips records exactly, unicode, quotes and newlines included', async () => {
    const f = file();
    const w = new TraceWriter(f);
    await w.opened();
    const e = execEvent(['printf', '%s\n', 'a "b" \'c\'', 'héllo ✓ 日本', 'line\nbreak']);
    for (const r of [start, e, end]) w.write(r);
    await w.close();
    assert.equal(readFileSync(f, 'utf8').split('\n').length, 4);
    assert.deepEqual(await collect(readTrace(f)), [start, e, end]);
  });

  it('replaces an existing file unless asked to append', async () => {
    const f = file();
    writeFileSync(f, 'old garbage\n');
    const w = new TraceWriter(f);
    w.write(start);
    await w.close();
    const a = new TraceWriter(f, { append: true });
    a.write(end);
    await a.close();
    assert.deepEqual(await collect(readTrace(f)), [start, end]);
  });

  it('reports a file it cannot create', async () => {
    const w = new TraceWriter(path.join(dir, 'no/such/dir/t.jsonl'));
    await assert.rejects(w.opened(), /ENOENT/);
    await assert.rejects(w.close(), /ENOENT/);
  });

  it('ignores an unterminated last line (a writer that died mid-line)', async () => {
    const f = file();
    writeFileSync(f, `${JSON.stringify(start)}\n{"type":"ex`);
    assert.deepEqual(await collect(readTrace(f)), [start]);
  });

  it('names the file and line of a record that is not valid', async () => {
    const f = file();
    writeFileSync(f, `${JSON.stringify(start)}\n{"type":"exec","pid":"x"}\n`);
    await assert.rejects(
      collect(readTrace(f)),
      (e) => isCorralError(e) && /line 2 of .*t\d+\.jsonl is not a trace record: .*pid/.test(e.message),
    );
    writeFileSync(f, 'nope\n');
    await assert.rejects(collect(readTrace(f)), /line 1 .* not JSON/);
  });

  it('follows a file as it grows, across split writes, until the end record', async () => {
    const f = file();
    const got: TraceRecord[] = [];
    // A failed assertion must not leave the follower waiting forever (the test run would hang).
    const ac = new AbortController();
    const following = (async () => {
      for await (const r of readTrace(f, { follow: true, pollMs: 20, signal: ac.signal })) got.push(r);
    })();
    try {
      await sleep(50); // the file does not exist yet: the follower waits for it
      writeFileSync(f, `${JSON.stringify(start)}\n`);
      const line = JSON.stringify(execEvent(['ls', 'é']));
      await sleep(50);
      appendFileSync(f, line.slice(0, 10));
      await sleep(50);
      appendFileSync(f, `${line.slice(10)}\n`);
      await until(() => got.length === 2);
      appendFileSync(f, `${JSON.stringify(end)}\n${JSON.stringify(start)}\n`);
      await following;
      assert.deepEqual(
        got.map((r) => r.type),
        ['start', 'exec', 'end'],
      );
    } finally {
      ac.abort();
    }
  });

  it('follows past end records until done says no writer is left, then reads what remains', async () => {
    const f = file();
    writeFileSync(f, `${JSON.stringify(start)}\n${JSON.stringify(end)}\n`);
    let finished = false;
    const got: TraceRecord[] = [];
    const ac = new AbortController();
    const following = (async () => {
      const read = readTrace(f, {
        follow: true,
        untilEnd: false,
        done: () => finished,
        pollMs: 20,
        signal: ac.signal,
      });
      for await (const r of read) got.push(r);
    })();
    try {
      await until(() => got.length === 2);
      // A restart: a second recorder appends its own start, events and end.
      appendFileSync(f, `${JSON.stringify(start)}\n`);
      await until(() => got.length === 3);
      appendFileSync(f, `${JSON.stringify(execEvent(['true']))}\n${JSON.stringify(end)}\n`);
      finished = true;
      await following;
      assert.deepEqual(
        got.map((r) => r.type),
        ['start', 'end', 'start', 'exec', 'end'],
      );
    } finally {
      ac.abort();
    }
  });

  it('ends a follow of a file that was never made once done says so', async () => {
    assert.deepEqual(await collect(readTrace(file(), { follow: true, done: () => true, pollMs: 10 })), []);
  });

  it('stops following when aborted', async () => {
    const f = file();
    writeFileSync(f, `${JSON.stringify(start)}\n`);
    const ac = new AbortController();
    const got: TraceRecord[] = [];
    const following = (async () => {
      for await (const r of readTrace(f, { follow: true, signal: ac.signal, pollMs: 10_000 })) got.push(r);
    })();
    await sleep(30);
    ac.abort();
    await following;
    assert.deepEqual(got, [start]);
  });
});
