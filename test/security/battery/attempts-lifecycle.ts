import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { hostPidsWith } from '../../helpers/host.js';
import type { HostFixture } from './host-fixture.js';
import { RAN, py, sh, type Verdict } from './types.js';

/** What a lifecycle attempt works with: the runtime over the battery's data dir, and the host. */
export interface LifecycleContext {
  readonly rt: Runtime;
  readonly host: HostFixture;
}

/** An attack on what only containers have: other containers, the data dir, rm and stop. */
export interface LifecycleAttempt {
  readonly id: string;
  readonly category: string;
  readonly title: string;
  attempt(ctx: LifecycleContext): Promise<Verdict>;
}

const CLI = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (check()) return true;
  return check();
}
let seq = 0;
const fresh = (what: string) => `bat-${what}-${++seq}`;

/** The corral CLI with fd 9 left open to this test (no close-on-exec), as a careless parent would. */
async function cliWithLeakedFd(rt: Runtime, args: string[]): Promise<{ out: string; leaked: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--', CLI, ...args], {
    env: { ...process.env, CORRAL_DATA_DIR: rt.dataDir },
    stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'pipe'],
  });
  let leaked = '';
  let out = '';
  ((child.stdio as unknown as Readable[])[9] as Readable).on('data', (d: Buffer) => (leaked += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'close');
  return { out, leaked };
}

async function logs(rt: Runtime, name: string): Promise<string> {
  let text = '';
  for await (const l of rt.logs(name)) text += `${l.text}\n`;
  return text;
}

/** Lists its descriptors and writes to every one above stdio. */
const FD_PROBE =
  'import os, sys\nfds = []\nfor f in sorted(os.listdir("/proc/self/fd"), key=int):\n    try: os.readlink(f"/proc/self/fd/{f}"); fds.append(int(f))\n    except OSError: pass\n' +
  'print("fds", fds)\nfor fd in range(3, 1024):\n    try:\n        os.write(fd, b"escaped\\n"); print("WROTE to", fd)\n    except OSError: pass\nsys.stdout.flush()\n';

/** A daemon that ignores every catchable signal, carrying `tag` on its command line. */
const daemon = (tag: string) =>
  `setsid nohup sh -c 'trap "" HUP INT TERM QUIT USR1 USR2; sleep 600; : ${tag}' </dev/null >/dev/null 2>&1 &`;

/** Starts daemons from the container's command and from exec, then ends the container with `end`. */
async function survive(
  { rt }: LifecycleContext,
  end: (name: string) => Promise<void>,
  after: string,
): Promise<Verdict> {
  const name = fresh('survive');
  const [inCommand, inExec] = [randomBytes(6).toString('hex'), randomBytes(6).toString('hex')].map(
    (t) => `corral-battery-daemon-${t}`,
  ) as [string, string];
  await rt.create(name, { command: sh(`${daemon(inCommand)}\nexec sleep 600`) });
  await rt.start(name);
  const exec = await rt.exec(name, sh(daemon(inExec)));
  const running = await until(
    () => hostPidsWith(inCommand).length > 0 && hostPidsWith(inExec).length > 0,
    3000,
  );
  if (!running || !exec.stdout.includes(RAN))
    return { outcome: 'did-not-run', evidence: `the daemons never ran: ${exec.stdout} ${exec.stderr}` };
  await end(name);
  await sleep(300);
  const left = [...hostPidsWith(inCommand), ...hostPidsWith(inExec)];
  await rt.remove(name, { force: true }).catch(() => undefined);
  return left.length > 0
    ? { outcome: 'escaped', evidence: `still running after ${after}: ${left.join(', ')}` }
    : {
        outcome: 'contained',
        evidence: `daemons from the command and from exec (setsid, nohup, signals ignored) were running; none is left after ${after}`,
      };
}

export const LIFECYCLE_ATTEMPTS: LifecycleAttempt[] = [
  {
    id: 'read-other-container',
    category: 'other containers',
    title:
      "read another container's environment, logs and spec through the data dir and /proc, and forge its state (as a command and through exec)",
    attempt: async ({ rt }) => {
      const secret = `corral-victim-${randomBytes(12).toString('hex')}`;
      const victim = fresh('victim');
      await rt.create(victim, {
        command: ['sh', '-c', 'echo "$VICTIM_SECRET"; exec sleep 600'],
        env: { VICTIM_SECRET: secret },
      });
      await rt.start(victim);
      const dir = path.join(rt.dataDir, 'containers', victim);
      const script = sh(
        `ls -la ${rt.dataDir} ${rt.dataDir}/containers ${dir} 2>&1\n` +
          `cat ${dir}/stdout.log ${dir}/container.json ${dir}/state.json 2>&1\n` +
          `for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done 2>/dev/null\n` +
          `echo '{"status":"exited"}' > ${dir}/state.json && echo FORGED\n` +
          `ls /proc/*/root/${dir} 2>/dev/null | head -3; echo SCRIPT-DONE`,
      );
      const stateFile = path.join(dir, 'state.json');
      const stateBefore = readFileSync(stateFile, 'utf8');
      // As the command of another container, then exec'd into it (not into the victim: a command
      // exec'd there is the victim's own and may read its environment).
      const attacker = fresh('attacker');
      await rt.create(attacker, { command: ['sh', '-c', `${script[2]}\nexec sleep 600`] });
      await rt.start(attacker);
      let asCommand = '';
      for (let i = 0; i < 200 && !asCommand.includes('SCRIPT-DONE'); i++) {
        await sleep(25);
        asCommand = await logs(rt, attacker);
      }
      const viaExec = await rt.exec(attacker, script);
      const seen = `${asCommand}\n${viaExec.stdout}${viaExec.stderr}`;
      const state = rt.state(victim).status;
      const kept = readFileSync(stateFile, 'utf8') === stateBefore;
      await rt.remove(attacker, { force: true });
      await rt.remove(victim, { force: true });
      if (!asCommand.includes(RAN) || !viaExec.stdout.includes(RAN))
        return { outcome: 'did-not-run', evidence: seen.slice(0, 300) };
      // FORGED inside proves nothing by itself (a tmpfs takes writes): the host's file is the test.
      const ok = !seen.includes(secret) && kept && state === 'running';
      return {
        outcome: ok ? 'contained' : 'escaped',
        evidence: ok
          ? `the data dir is an empty tmpfs inside; no secret seen, the victim's state untouched (still ${state})`
          : `secret ${seen.includes(secret) ? 'LEAKED' : 'kept'}, state file ${kept ? 'kept' : 'CHANGED'} (${state})`,
      };
    },
  },
  {
    id: 'survive-rm',
    category: 'surviving the container',
    title: 'leave signal-proof daemons (setsid, nohup, traps) from the command and from exec, then get rm -f',
    attempt: (ctx) => survive(ctx, (name) => ctx.rt.remove(name, { force: true }), 'rm -f'),
  },
  {
    id: 'survive-stop',
    category: 'surviving the container',
    title: 'leave signal-proof daemons from the command and from exec, then get stopped (300 ms grace)',
    attempt: (ctx) => survive(ctx, (name) => ctx.rt.stop(name, { grace: '300ms' }), 'stop'),
  },
  {
    id: 'inherited-descriptors-lifecycle',
    category: 'leaked descriptors',
    title:
      'use a descriptor the corral CLI inherited (fd 9, no close-on-exec) from a container started by it, and from a command it exec’d',
    attempt: async ({ rt }) => {
      const name = fresh('fds');
      await rt.create(name, { command: py(`${FD_PROBE}os.execvp("sleep", ["sleep", "600"])`) });
      const start = await cliWithLeakedFd(rt, ['start', name]);
      let command = '';
      for (let i = 0; i < 100 && !command.includes('fds'); i++) {
        await sleep(30);
        command = await logs(rt, name);
      }
      const exec = await cliWithLeakedFd(rt, ['exec', name, '--', ...py(FD_PROBE)]);
      await rt.remove(name, { force: true });
      const leaked = start.leaked + exec.leaked;
      const seen = `command: ${command.replace(RAN, '').trim()} | exec: ${exec.out.replace(RAN, '').trim()}`;
      if (!command.includes('fds') || !exec.out.includes('fds'))
        return { outcome: 'did-not-run', evidence: `${seen} | start: ${start.out}` };
      const ok =
        /fds \[0, 1, 2\]/.test(command) &&
        /fds \[0, 1, 2\]/.test(exec.out) &&
        !/WROTE/.test(seen) &&
        leaked === '';
      return {
        outcome: ok ? 'contained' : 'escaped',
        evidence: `${seen}; the parent's socket got ${JSON.stringify(leaked)}`,
      };
    },
  },
];
