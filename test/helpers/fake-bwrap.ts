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
export function fakeBwrap(options: FakeBwrapOptions = {}, argsOverride?: readonly string[]): FakeBehaviour {
  return async (child) => {
    const args = argsOverride ?? child.request.args;
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
  return new FakeLauncher((req: LaunchRequest) =>
    isBwrap(req) ? fakeBwrap(options) : isParkedSpare(req) ? parkedSpare(options) : undefined,
  );
}

/** bwrap is launched directly, or through prlimit (`prlimit OPTS -- /usr/bin/bwrap ARGS`). */
export function isBwrap(req: LaunchRequest): boolean {
  return req.file.endsWith('bwrap') || req.args.some((a) => a.endsWith('/bwrap'));
}

/** A warm-start spare: `/bin/sh -c '... read -r line <&N && eval "$line"'`. */
function isParkedSpare(req: LaunchRequest): boolean {
  return req.file.endsWith('/sh') && /read -r line <&\d+/.test(req.args[1] ?? '');
}

/** Plays the parked shell: reads its one line, then becomes the bwrap it names. */
function parkedSpare(options: FakeBwrapOptions): FakeBehaviour {
  return async (child) => {
    const control = Number(/<&(\d+)/.exec(child.request.args[1] ?? '')?.[1]);
    let line = '';
    for await (const chunk of child.pipe(control).readable) line += String(chunk);
    const words = unquote(line.slice(line.indexOf(' exec ') + 6));
    // `exec bwrap ARGS`, or `exec prlimit OPTS -- bwrap ARGS`.
    const args = words[0]?.endsWith('prlimit') ? words.slice(words.indexOf('--') + 2) : words.slice(1);
    await fakeBwrap(options, args)(child);
  };
}

/** Just enough of sh to read shellQuote's output: 'quoted' words, \' and "$NL". */
function unquote(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (text.startsWith("\\'", i)) {
      word = (word ?? '') + "'";
      i += 1;
    } else if (text.startsWith('"$NL"', i)) {
      word = (word ?? '') + '\n';
      i += 4;
    } else if (c === ' ' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
