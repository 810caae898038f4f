import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePs, rowToSnapshot, subtree } from '../../../../../src/platform/darwin/trace/ps-parse.js';

const recorded = readFileSync(new URL('../../../../fixtures/ps-macos.txt', import.meta.url), 'utf8');

describe('macOS ps output', () => {
  it('reads pid, parent, start time and the command line of every row', () => {
    const rows = parsePs(recorded);
    assert.equal(rows.length, 9);
    assert.deepEqual(rows[4], {
      pid: 4211,
      ppid: 4210,
      started: 'Tue Apr 30 10:01:02 2024',
      commandLine: 'make test',
    });
    assert.equal(
      rows[3]?.commandLine,
      '/usr/bin/sandbox-exec -p (version 1)(deny default) /bin/sh -c make test',
    );
  });

  it('skips lines that are not rows (headers, garbage, blank)', () => {
    assert.deepEqual(
      parsePs('  PID  PPID STARTED COMMAND\n\nnot a row\n  12 x Mon Apr 29 08:12:44 2024 a\n'),
      [],
    );
  });

  it('keeps the sandbox process and what descends from it, nothing else', () => {
    const tree = subtree(parsePs(recorded), 4210).map((r) => r.pid);
    assert.deepEqual(tree.sort(), [4210, 4211, 4215, 4216]);
    assert.deepEqual(subtree(parsePs(recorded), 999), []);
  });

  it('splits the command line on spaces and says so; a zombie or unreadable process has no argv', () => {
    const rows = parsePs(recorded);
    const py = rowToSnapshot(rows[5] as (typeof rows)[number]);
    assert.deepEqual(
      [py.command, py.args, py.argv],
      ['/usr/bin/python3', ['-m', 'pytest', '-k', 'test_a', 'b'], 'split'],
    );
    const zombie = rowToSnapshot(rows[6] as (typeof rows)[number]);
    assert.deepEqual([zombie.command, zombie.args, zombie.argv], [null, null, 'none']);
    const kernel = rowToSnapshot(rows[7] as (typeof rows)[number]);
    assert.deepEqual([kernel.command, kernel.args, kernel.argv], ['kernel_task', null, 'none']);
  });
});
