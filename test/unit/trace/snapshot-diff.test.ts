import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SnapshotDiffer, type ProcessSnapshot } from '../../../src/trace/snapshot-diff.js';

const snap = (pid: number, ppid: number, argv: string[], start = '1'): ProcessSnapshot => ({
  pid,
  ppid,
  start,
  command: argv[0] ?? null,
  args: argv.slice(1),
  argv: 'full',
  cwd: '/',
  exe: `/bin/${argv[0]}`,
});
const kinds = (evs: { type: string; pid?: number }[]) => evs.map((e) => `${e.type}:${e.pid ?? ''}`);

describe('snapshot differ (polling backends)', () => {
  it('reports processes found at the start as attached, but not the init', () => {
    const d = new SnapshotDiffer('box', 10);
    const out = d.diff([snap(10, 1, ['bwrap']), snap(11, 10, ['server'])], true);
    assert.deepEqual(kinds(out), ['exec:11']);
    assert.equal(out[0]?.type === 'exec' && out[0].attached, true);
  });

  it('turns a new pid into a fork and an exec, and a vanished one into an exit of unknown status', () => {
    const d = new SnapshotDiffer('box', 10);
    d.diff([snap(10, 1, ['init'])], true);
    const out = d.diff([snap(10, 1, ['init']), snap(12, 10, ['make', 'all'])], false);
    assert.deepEqual(kinds(out), ['fork:12', 'exec:12']);
    const gone = d.diff([snap(10, 1, ['init'])], false);
    assert.deepEqual(kinds(gone), ['exit:12']);
    assert.ok(gone[0]?.type === 'exit');
    assert.deepEqual([gone[0].status, gone[0].exitCode, gone[0].command], [null, null, 'make']);
  });

  it('sees an exec that kept the pid when the command line changes', () => {
    const d = new SnapshotDiffer('box', 10);
    d.diff([snap(11, 10, ['sh', '-c', 'exec sleep 9'])], true);
    const out = d.diff([snap(11, 10, ['sleep', '9'])], false);
    assert.deepEqual(kinds(out), ['exec:11']);
    assert.deepEqual(d.diff([snap(11, 10, ['sleep', '9'])], false), []);
  });

  it('reports a forked child still running its parent program as a fork only', () => {
    const d = new SnapshotDiffer('box', 10);
    d.diff([snap(11, 10, ['sh', 'x.sh'])], true);
    const out = d.diff([snap(11, 10, ['sh', 'x.sh']), snap(12, 11, ['sh', 'x.sh'])], false);
    assert.deepEqual(kinds(out), ['fork:12']);
  });

  it('tells a reused pid from the same process by its start time', () => {
    const d = new SnapshotDiffer('box', 10);
    d.diff([snap(11, 10, ['a'], '100')], true);
    const out = d.diff([snap(11, 10, ['a'], '200')], false);
    assert.deepEqual(kinds(out), ['exit:11', 'fork:11', 'exec:11']);
  });
});
