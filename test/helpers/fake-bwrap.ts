import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeBehaviour, LaunchRequest } from '../../src/index.js';
import { FakeLauncher } from '../../src/index.js';

export interface FakeBwrapOptions {
  readonly exitCode?: number;
  readonly stdout?: string;
  readonly stderr?: string;
  /** How long the "command" runs; default 0. Infinity waits for a signal. */
  readonly runMs?: number;
  /** Exit before writing the child pid, like bwrap failing during setup. */
  readonly failSetup?: boolean;
  /** Called once the fake init is blocked on --block-fd (limits can be inspected then). */
  readonly onBlocked?: (initPid: number) => void | Promise<void>;
}

let nextInit = 70_000_000;

/** Plays bubblewrap's side of the protocol: child pid on --info-fd, wait on --block-fd. */
export function fakeBwrap(options: FakeBwrapOptions = {}): FakeBehaviour {
  return async (child) => {
    const args = child.request.args;
    const fd = (flag: string) => Number(args[args.indexOf(flag) + 1]);
    if (options.failSetup) {
      child.writeStderr("bwrap: Can't mount tmpfs on /newroot/x: No such file or directory\n");
      child.exit(1);
      return;
    }
    const initPid = nextInit++;
    child.claimPid(initPid);
    child.pipe(fd('--info-fd')).write(`{\n    "child-pid": ${initPid}\n}\n`);
    // Like the real bwrap, a kill while it waits on --block-fd ends it (set-up failed after the
    // init existed: corral then kills it instead of releasing it).
    const released = await Promise.race([
      once(child.pipe(fd('--block-fd')).readable, 'data').then(() => true),
      child.signalled.then(() => false),
    ]);
    if (!released) {
      child.exit(137);
      return;
    }
    await options.onBlocked?.(initPid);
    if (options.stdout) child.writeStdout(options.stdout);
    if (options.stderr) child.writeStderr(options.stderr);
    const runMs = options.runMs ?? 0;
    const signal = await Promise.race([
      child.signalled,
      runMs === Infinity ? new Promise<never>(() => undefined) : sleep(runMs).then(() => null),
    ]);
    // bwrap reports a command killed by signal N as exit status 128+N.
    if (signal === 'SIGKILL') child.exit(137);
    else if (signal === 'SIGTERM') child.exit(143);
    else child.exit(options.exitCode ?? 0);
  };
}

/** A launcher whose bwrap is fake and whose other tools (prlimit) succeed at once. */
export function fakeLauncher(options: FakeBwrapOptions = {}): FakeLauncher {
  return new FakeLauncher((req: LaunchRequest) => (isBwrap(req) ? fakeBwrap(options) : undefined));
}

/** bwrap is launched directly, or through prlimit (`prlimit OPTS -- /usr/bin/bwrap ARGS`). */
export function isBwrap(req: LaunchRequest): boolean {
  return req.file.endsWith('bwrap') || req.args.some((a) => a.endsWith('/bwrap'));
}
