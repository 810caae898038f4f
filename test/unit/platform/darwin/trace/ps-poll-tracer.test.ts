import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PsPollTracer } from '../../../../../src/platform/darwin/trace/ps-poll-tracer.js';
import type { TraceEvent } from '../../../../../src/trace/types.js';

const row = (pid: number, ppid: number, cmd: string, start = 'Tue Apr 30 10:01:02 2024') =>
  `${String(pid).padStart(5)} ${String(ppid).padStart(5)} ${start}     ${cmd}`;

describe('macOS ps polling tracer', () => {
  it('turns successive recorded ps outputs into fork, exec and exit events for the sandbox only', async () => {
    const outputs = [
      [row(1, 0, '/sbin/launchd'), row(500, 1, '/usr/bin/sandbox-exec -p x sh job.sh')],
      [
        row(1, 0, '/sbin/launchd'),
        row(500, 1, 'sh job.sh'),
        row(501, 500, 'curl https://x'),
        row(77, 1, 'mdworker'),
      ],
      [row(1, 0, '/sbin/launchd'), row(500, 1, 'sh job.sh')],
    ];
    let call = 0;
    const t = new PsPollTracer({
      intervalMs: 10,
      ps: () => Promise.resolve(`${(outputs[Math.min(call++, outputs.length - 1)] ?? []).join('\n')}\n`),
    });
    const events: TraceEvent[] = [];
    t.onEvent((e) => events.push(e));
    await t.start({ initPid: 500, sandbox: 'mac' });
    await sleep(60);
    await t.stop();
    const seen = events.map((e) =>
      e.type === 'exec' ? `exec:${e.pid}:${e.command}` : e.type === 'lost' ? 'lost' : `${e.type}:${e.pid}`,
    );
    assert.deepEqual(seen, ['exec:500:sh', 'fork:501', 'exec:501:curl', 'exit:501']);
    const curl = events.find((e) => e.type === 'exec' && e.pid === 501);
    assert.ok(curl?.type === 'exec');
    assert.deepEqual([curl.args, curl.argv, curl.sandbox], [['https://x'], 'split', 'mac']);
  });

  it('keeps polling when one ps run fails', async () => {
    let call = 0;
    const t = new PsPollTracer({
      intervalMs: 5,
      ps: () =>
        ++call === 2
          ? Promise.reject(new Error('fork failed'))
          : Promise.resolve(`${row(500, 1, 'init')}\n${call > 2 ? row(501, 500, 'ls') : ''}\n`),
    });
    const events: TraceEvent[] = [];
    t.onEvent((e) => events.push(e));
    await t.start({ initPid: 500 });
    await sleep(40);
    await t.stop();
    assert.ok(events.some((e) => e.type === 'exec' && e.command === 'ls'));
  });
});
