import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readTrace, spawn, startRecorderProcess, type TraceRecord } from '../../../src/index.js';
import { linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

describe('detached trace recorder (lifecycle containers)', () => {
  it('records a sandbox from its first exec to its end into trace.jsonl, and a follower sees it all', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'corral-recorder-'));
    const file = path.join(dir, 'trace.jsonl');
    try {
      let recorderPid = 0;
      const proc = spawn(
        { command: ['sh', '-c', 'sleep 0.3; /bin/echo "hello world" >/dev/null; exit 2'] },
        {
          stdout: 'ignore',
          stderr: 'ignore',
          onReady: async (s) => {
            const r = await startRecorderProcess({
              target: {
                initPid: s.initPid,
                ...(s.cgroupName && { cgroupName: s.cgroupName }),
                sandbox: 'web-1',
              },
              file,
            });
            recorderPid = r.pid;
          },
        },
      );
      await proc.start();
      // Follow while it runs, as `corral trace web-1 -f` would; the end record stops it.
      const followed: TraceRecord[] = [];
      for await (const r of readTrace(file, { follow: true, pollMs: 50 })) followed.push(r);
      const result = await proc.wait();
      assert.equal(result.exitCode, 2);
      assert.equal(followed[0]?.type, 'start');
      assert.equal(followed.at(-1)?.type, 'end');
      const echo = followed.find((r) => r.type === 'exec' && r.command === '/bin/echo');
      assert.ok(echo?.type === 'exec');
      assert.deepEqual(echo.args, ['hello world']);
      assert.equal(echo.sandbox, 'web-1');
      assert.ok(followed.some((r) => r.type === 'exit' && r.command === 'sh' && r.exitCode === 2));
      // The recorder has ended by itself.
      await new Promise((r) => setTimeout(r, 200));
      assert.throws(() => process.kill(recorderPid, 0), /ESRCH/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
