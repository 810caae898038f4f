import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { showTrace } from '../../../src/trace/show.js';
import { execEvent } from '../../helpers/fake-tracer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'corral-show-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(): string {
  const f = path.join(dir, `${Math.random()}.jsonl`);
  const lines = [
    {
      type: 'start',
      timestamp: '2024-05-01T12:00:00.000Z',
      sandbox: 'web',
      backend: 'proc-connector',
      initPid: 7,
    },
    execEvent(['npm', 'ci'], { timestamp: '2024-05-01T12:00:01.000Z' }),
  ];
  writeFileSync(f, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return f;
}

async function shown(f: string, json: boolean): Promise<{ text: string; execs: number }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const s = await showTrace(f, out, { json, utc: true });
  return { text, execs: s.execs };
}

describe('showing a trace file', () => {
  it('prints one readable line per record and returns the summary', async () => {
    const { text, execs } = await shown(file(), false);
    assert.deepEqual(text.trim().split('\n'), [
      '12:00:00.000 trace of web started (backend proc-connector, init pid 7)',
      '12:00:01.000 exec  100 <- 99     npm ci  [package-install] cwd=/work',
    ]);
    assert.equal(execs, 1);
  });

  it('prints the records as JSONL with --json', async () => {
    const { text } = await shown(file(), true);
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.equal((JSON.parse(lines[1] as string) as { command: string }).command, 'npm');
  });
});
