import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { Runtime } from '../../../src/runtime/runtime.js';
import type { SandboxSpec } from '../../../src/index.js';

/** One way a container's life can go; `run` says what was wrong, or undefined. */
export interface ContainerFault {
  readonly name: string;
  /** Out of every 100 runs. */
  readonly share: number;
  run(ctx: FaultContext): Promise<string | undefined>;
}

export interface FaultContext {
  readonly rt: Runtime;
  /** The container's name; it carries the battery's tag, as do its cgroups. */
  readonly name: string;
  /** On every command line the container runs, to find its processes on the host. */
  readonly tag: string;
  readonly rand: () => number;
  /** Records what the next command found after corral was killed, for the battery's report. */
  note(what: string): void;
}

const CLI = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const brief = (x: unknown) => JSON.stringify(x).slice(0, 300);

/**
 * Its first line is the Seccomp status it runs under: a start cut short must never have let it
 * run unfiltered. The tag stays on the shell's command line while it sleeps.
 */
const sleeper = (tag: string): SandboxSpec => ({
  command: ['sh', '-c', `grep ^Seccomp: /proc/self/status; sleep 600; : ${tag}`],
});

async function outputOf(rt: Runtime, name: string): Promise<string> {
  let text = '';
  for await (const l of rt.logs(name)) text += `${l.text}\n`;
  return text;
}

/** Why the container's output shows it ran without its filter, if it did. */
async function unfiltered(ctx: FaultContext): Promise<string | undefined> {
  const out = await outputOf(ctx.rt, ctx.name).catch(() => '');
  if (/^Seccomp:\s*2$/m.test(out)) ctx.note('command ran, filtered');
  return /^Seccomp:\s*[01]$/m.test(out) ? `ran without its system call filter: ${out}` : undefined;
}

/** The CLI doing `args`, SIGKILLed at a failpoint (when given) or after `delayMs`. */
async function killedCli(
  rt: Runtime,
  args: string[],
  how: { failpoint: string } | { delayMs: number },
): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--', CLI, ...args], {
    env: {
      ...process.env,
      CORRAL_DATA_DIR: rt.dataDir,
      ...('failpoint' in how && { CORRAL_FAILPOINTS: how.failpoint }),
    },
    stdio: 'ignore',
  });
  const closed = once(child, 'close');
  if ('delayMs' in how) {
    await sleep(how.delayMs);
    child.kill('SIGKILL');
  }
  await closed;
}

/** The next command after any of these must be able to remove the container, whatever its state. */
async function recover({ rt, name, note }: FaultContext): Promise<string | undefined> {
  let status: string;
  try {
    status = rt.state(name).status;
  } catch (err) {
    // A create killed before it claimed the name leaves nothing: as good as removed.
    const gone = (err as { code?: string }).code === 'E_NO_SUCH_CONTAINER';
    if (gone) note('found: none');
    return gone ? undefined : (err as Error).message;
  }
  note(`found: ${status}`);
  if (!['created', 'running', 'exited', 'broken'].includes(status)) return `left in state ${status}`;
  try {
    await rt.remove(name, { force: true });
  } catch (err) {
    return `rm -f after it (${status}): ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * The CLI under tsx needs about 450 ms to load, then each operation about 100 ms (more with four
 * at a time on two cores): a delay spread over both lands before, in and after the operation.
 */
const anyMoment = (rand: () => number) => ({ delayMs: 350 + rand() * 450 });

/**
 * Where the next kill of one kind lands: each named failpoint in turn, then a random moment, so
 * every point is hit however few runs a kind gets.
 */
function killPlan(
  failpoints: readonly string[],
): (rand: () => number) => { failpoint: string } | { delayMs: number } {
  let n = 0;
  return (rand) => {
    const fp = failpoints[n++ % (failpoints.length + 1)];
    return fp === undefined ? anyMoment(rand) : { failpoint: fp };
  };
}

const createKills = killPlan(['create:claimed', 'create:rootfs']);
const startKills = killPlan(['start:recorded', 'start:ready', 'start:released']);
const tracedStartKills = killPlan(['start:traced', 'start:ready', 'start:released']);
const stopKills = killPlan(['stop:signalled']);
const rmKills = killPlan(['remove:marked', 'remove:released']);

export const CONTAINER_FAULTS: ContainerFault[] = [
  {
    name: 'normal',
    share: 20,
    run: async ({ rt, name, tag }) => {
      await rt.create(name, { command: ['sh', '-c', `echo out; echo err >&2; : ${tag}`] });
      await rt.start(name);
      const o = await rt.wait(name, { signal: AbortSignal.timeout(20_000) });
      const out = await outputOf(rt, name);
      await rt.remove(name);
      return o.exitCode === 0 && o.reason === 'exit' && out === 'out\nerr\n' ? undefined : brief({ o, out });
    },
  },
  {
    name: 'stopped',
    share: 8,
    run: async ({ rt, name, tag }) => {
      await rt.create(name, sleeper(tag));
      await rt.start(name);
      await rt.stop(name, { grace: '200ms' });
      const o = rt.state(name).outcome;
      await rt.remove(name);
      return o?.signal === 'SIGTERM' ? undefined : brief(o);
    },
  },
  {
    name: 'killed',
    share: 5,
    run: async ({ rt, name, tag }) => {
      await rt.create(name, sleeper(tag));
      await rt.start(name);
      await rt.kill(name, 'SIGKILL');
      const o = await rt.wait(name, { signal: AbortSignal.timeout(20_000) });
      await rt.remove(name);
      return o.signal === 'SIGKILL' ? undefined : brief(o);
    },
  },
  {
    name: 'timeout',
    share: 7,
    run: async ({ rt, name, tag }) => {
      await rt.create(name, { ...sleeper(tag), limits: { timeout: '200ms' } });
      await rt.start(name);
      const o = await rt.wait(name, { signal: AbortSignal.timeout(20_000) });
      await rt.remove(name);
      return o.reason === 'timeout' ? undefined : brief(o);
    },
  },
  {
    name: 'out-of-memory',
    share: 7,
    run: async ({ rt, name, tag }) => {
      await rt.create(name, {
        command: ['sh', '-c', `a=x; while :; do a=$a$a; done; : ${tag}`],
        limits: { memory: '32Mi', timeout: '20s' },
      });
      await rt.start(name);
      const o = await rt.wait(name, { signal: AbortSignal.timeout(30_000) });
      await rt.remove(name);
      return o.reason === 'memory' ? undefined : brief(o);
    },
  },
  {
    name: 'removed-running-with-exec-daemon',
    share: 8,
    run: async ({ rt, name, tag }) => {
      await rt.create(name, sleeper(tag));
      await rt.start(name);
      const e = await rt.exec(name, [
        'sh',
        '-c',
        `setsid nohup sh -c 'trap "" TERM HUP; sleep 600; : ${tag}' </dev/null >/dev/null 2>&1 &`,
      ]);
      await rt.remove(name, { force: true });
      return e.exitCode === 0 ? undefined : brief(e);
    },
  },
  {
    name: 'cli-killed-in-create',
    share: 10,
    run: async (ctx) => {
      const { rt, name, tag, rand } = ctx;
      const how = createKills(rand);
      await killedCli(rt, ['create', '--name', name, '--memory', '64Mi', '--', ...sleeper(tag).command], how);
      return recover(ctx);
    },
  },
  {
    name: 'cli-killed-in-start',
    share: 14,
    run: async (ctx) => {
      const { rt, name, tag, rand } = ctx;
      await rt.create(name, { ...sleeper(tag), limits: { memory: '64Mi' } });
      const how = startKills(rand);
      await killedCli(rt, ['start', name], how);
      await sleep(100);
      return (await unfiltered(ctx)) ?? recover(ctx);
    },
  },
  {
    // A recorder (and its reader) join the start; the census finds a recorder by the container's
    // name on its title, and by the trace file it writes.
    name: 'cli-killed-in-traced-start',
    share: 5,
    run: async (ctx) => {
      const { rt, name, tag, rand } = ctx;
      await rt.create(name, sleeper(tag), { trace: true });
      const how = tracedStartKills(rand);
      await killedCli(rt, ['start', name], how);
      await sleep(100);
      return (await unfiltered(ctx)) ?? recover(ctx);
    },
  },
  {
    name: 'cli-killed-in-stop',
    share: 8,
    run: async (ctx) => {
      const { rt, name, tag, rand } = ctx;
      await rt.create(name, sleeper(tag));
      await rt.start(name);
      const how = stopKills(rand);
      await killedCli(rt, ['stop', '-t', '1', name], how);
      return recover(ctx);
    },
  },
  {
    name: 'cli-killed-in-rm',
    share: 8,
    run: async (ctx) => {
      const { rt, name, tag, rand } = ctx;
      await rt.create(name, sleeper(tag));
      await rt.start(name);
      const how = rmKills(rand);
      await killedCli(rt, ['rm', '-f', name], how);
      return recover(ctx);
    },
  },
];
