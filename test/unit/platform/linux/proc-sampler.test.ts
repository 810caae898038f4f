import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ProcSampler, parseProcStat, parseStatusRss } from '../../../../src/platform/linux/proc-sampler.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/linux-proc');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

describe('parseProcStat (recorded /proc/PID/stat)', () => {
  it('reads ppid, group and CPU times, with children reaped counted in', () => {
    const s = parseProcStat(fixture('stat-busy.txt'));
    assert.deepEqual(s, {
      pid: 31361,
      state: 'S',
      ppid: 31320,
      pgid: 31316,
      cpuUserMs: 630,
      cpuSystemMs: 10,
      startTime: '306925',
    });
  });

  it('is not fooled by a command name holding spaces and parentheses', () => {
    const s = parseProcStat(fixture('stat-odd-name.txt'));
    assert.equal(s?.pid, 31200);
    assert.equal(s?.state, 'S');
    assert.equal(s?.ppid, 1);
    assert.equal(s?.pgid, 31196);
  });

  it('reads a zombie and rejects garbage', () => {
    assert.equal(parseProcStat(fixture('stat-zombie.txt'))?.state, 'Z');
    assert.equal(parseProcStat(''), undefined);
    assert.equal(parseProcStat('12 (x) S 1'), undefined);
  });
});

describe('parseStatusRss (recorded /proc/PID/status)', () => {
  it('reads VmRSS in bytes', () => {
    assert.equal(parseStatusRss(fixture('status-busy.txt')), 44216 * 1024);
  });
  it('gives 0 for a process without VmRSS (zombie)', () => {
    assert.equal(parseStatusRss('Name:\tpython3\nState:\tZ (zombie)\n'), 0);
  });
});

describe('ProcSampler over a recorded /proc tree', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'corral-fakeproc-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  // 31316 -> 31361 (two threads; the second thread forked 31400) -> 31400; 31500 is unrelated.
  const proc = (pid: number, stat: string, status: string, children: Record<string, string>) => {
    const dir = path.join(root, String(pid));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'stat'), stat);
    writeFileSync(path.join(dir, 'status'), status);
    for (const [tid, kids] of Object.entries(children)) {
      mkdirSync(path.join(dir, 'task', tid), { recursive: true });
      writeFileSync(path.join(dir, 'task', tid, 'children'), kids);
    }
  };
  const busy = fixture('stat-busy.txt');
  proc(31316, busy.replace(/^31361/, '31316'), 'VmRSS:\t 1000 kB\n', { '31316': '31361 ' });
  proc(31361, busy, fixture('status-busy.txt'), { '31361': '', '31362': '31400 ' });
  proc(31400, fixture('stat-zombie.txt').replace(/^31248/, '31400'), 'State:\tZ (zombie)\n', { '31400': '' });
  proc(31500, busy.replace(/^31361/, '31500'), 'VmRSS:\t 9999 kB\n', { '31500': '' });

  it('walks children of every thread and skips processes outside the tree', async () => {
    const samples = await new ProcSampler(root).sample([31316]);
    assert.deepEqual(
      samples.map((s) => s.pid),
      [31316, 31361, 31400],
    );
    assert.equal(samples.find((s) => s.pid === 31361)?.rssBytes, 44216 * 1024);
    assert.equal(samples.find((s) => s.pid === 31400)?.rssBytes, 0);
  });

  it('skips a root that no longer exists', async () => {
    const samples = await new ProcSampler(root).sample([999999, 31500]);
    assert.deepEqual(
      samples.map((s) => s.pid),
      [31500],
    );
  });
});
