import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FakeLauncher } from '../../../../src/process/fake-launcher.js';
import { PS_ARGS, parseCpuTime, parsePs } from '../../../../src/platform/darwin/ps.js';
import { PsSampler, selectTree } from '../../../../src/platform/darwin/ps-sampler.js';

// A listing in macOS ps's layout for PS_ARGS: right-aligned numbers, CPU times as M:SS.cc with
// unbounded minutes, lstart last. Written to that format (no Mac was at hand to record one).
const LISTING = readFileSync(
  path.resolve(import.meta.dirname, '../../../fixtures/darwin/ps-tree.txt'),
  'utf8',
);

describe('parseCpuTime', () => {
  it('reads the M:SS.cc form with unbounded minutes, and the [[D-]H:]MM:SS forms', () => {
    assert.equal(parseCpuTime('0:00.03'), 30);
    assert.equal(parseCpuTime('1841:49.50'), (1841 * 60 + 49.5) * 1000);
    assert.equal(parseCpuTime('  1:02.50 '), 62_500);
    assert.equal(parseCpuTime('01:02:03'), 3_723_000);
    assert.equal(parseCpuTime('2-00:00:01'), 172_801_000);
    assert.equal(parseCpuTime('0:01,25'), 1_250, 'a comma decimal point');
  });
  it('refuses what is not a time', () => {
    for (const bad of ['', '-', '12', 'a:bc', '1:2:3:4']) assert.equal(parseCpuTime(bad), undefined, bad);
  });
});

describe('parsePs', () => {
  it('reads every row of the listing with RSS in bytes and the start time whole', () => {
    const rows = parsePs(LISTING);
    assert.equal(rows.length, 9);
    assert.deepEqual(rows[4], {
      pid: 4250,
      ppid: 4242,
      pgid: 4242,
      rssBytes: 204800 * 1024,
      cpuMs: 62_500,
      userMs: 58_250,
      started: 'Tue Sep 22 09:15:04 2026',
    });
  });
  it('skips lines it cannot read instead of guessing', () => {
    assert.deepEqual(parsePs('  PID  PPID\n garbage line here x y z\n\n'), []);
  });
});

describe('selectTree', () => {
  const rows = parsePs(LISTING);

  it('takes the root, its descendants and the members of its process group, nothing else', () => {
    const known = new Map<number, string>();
    const tree = selectTree(rows, [4242], known);
    // 4251 left the group but is a grandchild; 4260 was orphaned to launchd but kept the group.
    assert.deepEqual(tree.map((p) => p.pid).sort(), [4242, 4250, 4251, 4260]);
    const child = tree.find((p) => p.pid === 4250);
    assert.deepEqual(child && { user: child.cpuUserMs, system: child.cpuSystemMs }, {
      user: 58_250,
      system: 4_250,
    });
  });

  it('keeps following a process once seen, after it is orphaned into a group of its own', () => {
    const known = new Map<number, string>();
    const before = parsePs(LISTING.replace(/^ 4270 {5}1/m, ' 4270  4250'));
    assert.ok(selectTree(before, [4242], known).some((p) => p.pid === 4270));
    assert.ok(
      selectTree(rows, [4242], known).some((p) => p.pid === 4270),
      'still tracked after setsid + orphaning',
    );
  });

  it('does not mistake a new process reusing a known pid for the old one', () => {
    const known = new Map<number, string>([[4270, 'Mon Sep 21 00:00:00 2026']]);
    assert.ok(!selectTree(rows, [4242], known).some((p) => p.pid === 4270));
  });

  it("drops a root whose pid now belongs to a younger process, and that process's group", () => {
    const known = new Map<number, string>([[4242, 'Mon Sep 21 00:00:00 2026']]);
    const tree = selectTree(rows, [4242], known);
    assert.ok(!tree.some((p) => p.pid === 4242 || p.pid === 4260), JSON.stringify(tree.map((p) => p.pid)));
  });

  it('still finds the group of a root that exited, so its background children can be ended', () => {
    const known = new Map<number, string>([[4242, 'Tue Sep 22 09:15:03 2026']]);
    const withoutRoot = parsePs(
      LISTING.split('\n')
        .filter((l) => !l.startsWith(' 4242 '))
        .join('\n'),
    );
    const tree = selectTree(withoutRoot, [4242], known);
    // 4250 and 4260 stayed in group 4242; 4251 descends from 4250.
    assert.deepEqual(tree.map((p) => p.pid).sort(), [4250, 4251, 4260]);
  });

  it('never includes launchd, even when asked for it', () => {
    assert.deepEqual(selectTree(rows, [1], new Map()), []);
  });
});

describe('PsSampler', () => {
  it('runs /bin/ps with fixed arguments in the C locale and samples the tree', async () => {
    const launcher = new FakeLauncher(() => (c) => {
      c.writeStdout(LISTING);
      c.exit(0);
    });
    const tree = await new PsSampler(launcher).sample([4242]);
    assert.equal(tree.length, 4);
    const req = launcher.launches[0];
    assert.equal(req?.file, '/bin/ps');
    assert.deepEqual(req?.args, PS_ARGS);
    assert.equal(req?.env.LC_ALL, 'C');
  });

  it('rejects when ps fails, so the monitor retries instead of seeing an empty tree', async () => {
    const launcher = new FakeLauncher(() => (c) => {
      c.writeStderr('ps: boom\n');
      c.exit(1);
    });
    await assert.rejects(new PsSampler(launcher).sample([4242]), /ps failed \(1\): ps: boom/);
  });
});
