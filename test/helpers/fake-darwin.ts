import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessSample, TreeSampler } from '../../src/limits/types.js';
import { FakeLauncher, type FakeBehaviour, type LaunchRequest } from '../../src/index.js';

export interface FakeWrapperOptions {
  /** The status line the wrapper writes on fd 3. Default `ok as=unset`. */
  readonly status?: string;
  readonly exitCode?: number;
  readonly stdout?: string;
  /** How long the command runs once released; Infinity waits for a signal. Default 0. */
  readonly runMs?: number;
  /** Set once the wrapper has been told to go on (fd 4). */
  readonly onGo?: () => void;
}

/** Plays the rlimit wrapper's side: status on fd 3, wait for `go` on fd 4, then "run". */
export function fakeWrapper(options: FakeWrapperOptions = {}): FakeBehaviour {
  return async (child) => {
    const status = options.status ?? 'ok as=unset';
    child.pipe(3).write(`${status}\n`);
    child.pipe(3).end();
    if (status.startsWith('fail')) {
      child.writeStderr(`corral: cannot set ${status.slice(5)}\n`);
      child.exit(125);
      return;
    }
    await once(child.pipe(4).readable, 'data');
    options.onGo?.();
    if (options.stdout) child.writeStdout(options.stdout);
    const runMs = options.runMs ?? 0;
    const signal = await Promise.race([
      child.signalled,
      runMs === Infinity ? new Promise<never>(() => undefined) : sleep(runMs).then(() => null),
    ]);
    // Unlike bwrap, the leader is the command itself: a signal ends it with no exit code.
    if (signal) child.exit(null, signal);
    else child.exit(options.exitCode ?? 0);
  };
}

/** A launcher whose /bin/sh plays the wrapper, and whose other programs succeed at once. */
export function fakeDarwinLauncher(options: FakeWrapperOptions = {}): FakeLauncher {
  return new FakeLauncher((req: LaunchRequest) =>
    req.file === '/bin/sh' ? fakeWrapper(options) : undefined,
  );
}

/** A sampler that reports each live root as one process with the given figures. */
export function fixedSampler(
  figures: { rssBytes?: number; cpuMs?: number } = {},
  alive: (pid: number) => boolean = () => true,
): TreeSampler & { rssBytes: number } {
  const s = {
    source: 'fixed',
    rssBytes: figures.rssBytes ?? 1 << 20,
    sample: async (roots: readonly number[]): Promise<ProcessSample[]> =>
      roots.filter(alive).map((pid) => ({
        pid,
        ppid: 1,
        pgid: pid,
        cpuUserMs: figures.cpuMs ?? 10,
        cpuSystemMs: 0,
        rssBytes: s.rssBytes,
      })),
  };
  return s;
}
