import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { RunResult, SandboxSpec } from '../../../src/index.js';
import type { Attempt } from './types.js';
import { py, verdict } from './types.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/run-spec.mts');
let leaked = '';

/** Runs the spec from a corral process that inherited fd 9 (a socket to this test) without close-on-exec. */
async function runWithLeakedFd(spec: SandboxSpec): Promise<RunResult> {
  const stdio = [
    'ignore',
    'pipe',
    'pipe',
    'ignore',
    'ignore',
    'ignore',
    'ignore',
    'ignore',
    'ignore',
    'pipe',
  ] as const;
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(spec)], {
    stdio: [...stdio],
  });
  (child.stdio[9 as number] as unknown as Readable).on('data', (d: Buffer) => (leaked += d.toString()));
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await once(child, 'close');
  if (!out.trim()) throw new Error(`the corral fixture failed: ${err}`);
  return JSON.parse(out) as RunResult;
}

/** Descriptors the parent leaks into corral must not leak on into the sandbox. */
export const DESCRIPTOR_ATTEMPTS: Attempt[] = [
  {
    id: 'inherited-descriptors',
    category: 'leaked descriptors',
    title: 'use a descriptor corral inherited from its parent (fd 9, no close-on-exec) to write out',
    spec: () => ({
      command: py(
        'import os\nfds = []\nfor f in sorted(os.listdir("/proc/self/fd"), key=int):\n    try: fds.append((int(f), os.readlink(f"/proc/self/fd/{f}")))\n    except OSError: pass\n' +
          'print("fds", [f for f, _ in fds])\nfor fd in range(3, 1024):\n    try:\n        os.write(fd, b"escaped\\n"); print("WROTE to", fd)\n    except OSError: pass',
      ),
    }),
    run: (spec) => runWithLeakedFd(spec),
    judge: (r) =>
      verdict(
        r,
        /fds \[0, 1, 2\]/.test(r.stdout ?? '') && !/WROTE/.test(r.stdout ?? '') && leaked === '',
        `nothing reached the parent's socket`,
      ),
  },
];
