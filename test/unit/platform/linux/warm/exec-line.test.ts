import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { LaunchRequest } from '../../../../../src/process/types.js';
import { execLine } from '../../../../../src/platform/linux/warm/exec-line.js';
import { DEFINE_NL } from '../../../../../src/platform/linux/warm/shell-quote.js';

const base: LaunchRequest = {
  file: '/usr/bin/env',
  args: [],
  env: {},
  stdin: 'ignore',
  stdout: 'pipe',
  stderr: 'pipe',
};

/** Runs the line the way a parked spare does: one `read`, then eval, with fd 3 as the control. */
function evalAsSpare(line: string): { stdout: string; status: number | null } {
  const script = `${DEFINE_NL}; IFS= read -r line <&3 && eval "$line"`;
  // The line reaches fd 3 through a here-document, as it reaches a spare through its pipe.
  const r = spawnSync('/bin/sh', ['-c', `{ ${script}; } 3<<'CORRAL_EOF'\n${line}CORRAL_EOF\n`], {
    env: {},
    encoding: 'utf8',
  });
  return { stdout: r.stdout, status: r.status };
}

describe("the parked spare's command line", () => {
  it("is one line that exports exactly the request's environment and execs its program", () => {
    const line = execLine({ ...base, env: { GREETING: "it's\nme", PATH: '/usr/bin:/bin' } }, 3);
    assert.equal(line.indexOf('\n'), line.length - 1);
    const r = evalAsSpare(line);
    assert.equal(r.status, 0);
    const env = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    assert.equal(env.PATH, '/usr/bin:/bin');
    assert.equal(r.stdout.includes("GREETING=it's\nme\n"), true);
  });

  it('closes the control descriptor, or turns it into /dev/null when bubblewrap will close it', () => {
    assert.match(execLine({ ...base, args: ['--args', '6', '--'] }, 6), / 6<\/dev\/null\n$/);
    assert.match(execLine({ ...base, args: ['--args', '7'] }, 6), / 6<&-\n$/);
    const r = evalAsSpare(
      execLine(
        { ...base, file: '/bin/sh', args: ['-c', 'test -e /proc/self/fd/3 && echo open || echo closed'] },
        3,
      ),
    );
    assert.equal(r.stdout, 'closed\n');
  });
});

describe('rlimits set by the parked shell', () => {
  it('sets soft before hard, exactly, and gives up on a file size that is not whole 512-byte blocks', async () => {
    const { ulimitCommands } = await import('../../../../../src/platform/linux/rlimits.js');
    const cmds = ulimitCommands({ outputBytes: 1, cpuTimeMs: 1500, fsizeBytes: 1 << 20 });
    assert.ok(cmds);
    const r = evalAsSpare(
      execLine(
        {
          ...base,
          file: '/bin/sh',
          args: ['-c', 'grep -E "^Max (cpu time|file size|core)" /proc/self/limits'],
        },
        3,
        cmds,
      ),
    );
    assert.match(r.stdout, /^Max cpu time\s+2\s+3\s+seconds/m);
    assert.match(r.stdout, /^Max file size\s+1048576\s+1048576\s+bytes/m);
    assert.match(r.stdout, /^Max core file size\s+0\s+0\s+bytes/m);
    assert.equal(ulimitCommands({ outputBytes: 1, fsizeBytes: 1000 }), undefined);
  });

  it('execs nothing when a limit cannot be set', () => {
    const r = evalAsSpare(execLine({ ...base, file: '/bin/echo', args: ['ran'] }, 3, 'ulimit -S -t -5'));
    assert.equal(r.stdout, '');
    assert.notEqual(r.status, 0);
  });
});
