import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { linuxSandboxMissing } from '../../helpers/host.js';
import { requireOrSkip } from '../../helpers/integration.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/run-with-inherited-fd.mts');

describe('descriptors corral inherited', () => {
  it('never reach the sandboxed command: it sees only 0, 1 and 2, and cannot write to the leaked one', async (t) => {
    if (!requireOrSkip(t, linuxSandboxMissing())) return;
    const stdio = [
      'ignore',
      'pipe',
      'inherit',
      'ignore',
      'ignore',
      'ignore',
      'ignore',
      'ignore',
      'ignore',
      'pipe',
    ] as const;
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { stdio: [...stdio] });
    let leaked = '';
    (child.stdio[9 as number] as unknown as Readable).on('data', (d: Buffer) => (leaked += d.toString()));
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await once(child, 'close');
    const report = JSON.parse(out) as { exitCode: number; sandbox: string; stderr: string };
    assert.equal(report.exitCode, 0, report.stderr);
    const inside = JSON.parse(report.sandbox) as { fds: [number, string][]; wrote: true | string };
    assert.deepEqual(
      inside.fds.map(([fd]) => fd),
      [0, 1, 2],
      `the sandbox had: ${JSON.stringify(inside.fds)}`,
    );
    assert.equal(inside.wrote, 'Bad file descriptor');
    assert.equal(leaked, '', 'nothing came out through the leaked descriptor');
  });
});
