import { readFileSync, statSync } from 'node:fs';
import { decideReason } from '../run/result.js';
import type { Loaded, RuntimeContext } from './context.js';
import type { ContainerInfo, ContainerState, ExitRecord, RunRecord } from './types.js';

/**
 * What a container is doing now, derived from its files and the live system, never from a
 * corral process's memory: state.json says what the last operation recorded; bubblewrap's status
 * file, the recorded processes (pid + start time) and the lock holders say what happened since.
 */
export function deriveState(ctx: RuntimeContext, c: Loaded, locked = false): ContainerState {
  // Under the lock, the only holder is the caller: what it sees is what the files say.
  const holder = locked ? undefined : ctx.holders(c.name)[0];
  const busy = holder && { op: holder.op, pid: holder.pid, since: holder.since };
  const s = c.state;
  if (!s || !c.config || s.status === 'creating') {
    if (busy) return { status: 'creating', busy };
    return {
      status: 'broken',
      problem: `its creation was interrupted (the corral process creating it died); remove it with: corral rm ${c.name}`,
    };
  }
  switch (s.status) {
    case 'created':
      return busy?.op === 'start'
        ? { status: 'starting', busy }
        : { status: 'created', ...(busy && { busy }) };
    case 'removing':
      if (busy) return { status: 'removing', busy };
      return {
        status: 'broken',
        problem: `its removal was interrupted (the corral process removing it died); finish it with: corral rm ${c.name}`,
      };
    case 'exited':
      return exitedState(s.run, s.exit, busy);
    case 'starting': {
      if (busy) return { status: 'starting', busy };
      // The starter died. If it had already let the command run, the container is simply running.
      const run = s.run;
      if (run && released(ctx, c, run)) return runningState(ctx, c, run, undefined);
      return {
        status: 'broken',
        problem: `its start was interrupted (the corral process starting it died); start it again or remove it: corral start ${c.name} / corral rm ${c.name}`,
      };
    }
    case 'running':
      return runningState(ctx, c, s.run as RunRecord, busy);
  }
}

/**
 * Whether an interrupted start had let the command run: it runs now (the init has a child), or
 * it ran and bubblewrap reported its exit.
 */
export function released(ctx: RuntimeContext, c: Loaded, run: RunRecord): boolean {
  if (!run.bwrap) return false;
  if (ctx.driver.alive(run.bwrap)) return ctx.driver.mainPid(run) !== undefined;
  return ctx.driver.readExitCode(c.paths) !== undefined;
}

function runningState(
  ctx: RuntimeContext,
  c: Loaded,
  run: RunRecord,
  busy: ContainerState['busy'],
): ContainerState {
  const exit = observeExit(ctx, c, run);
  if (exit) return exitedState(run, exit, busy);
  const pid = ctx.driver.mainPid(run);
  return {
    status: busy?.op === 'stop' ? 'stopping' : 'running',
    ...(run.startedAt && { startedAt: run.startedAt }),
    ...(pid !== undefined && { pid }),
    ...(busy && { busy }),
  };
}

function exitedState(
  run: RunRecord | undefined,
  exit: ExitRecord | undefined,
  busy: ContainerState['busy'],
): ContainerState {
  return {
    status: busy?.op === 'start' ? 'starting' : busy?.op === 'remove' ? 'removing' : 'exited',
    ...(run?.startedAt && { startedAt: run.startedAt }),
    ...(exit && {
      outcome: {
        exitCode: exit.exitCode,
        signal: exit.signal,
        reason: exit.reason,
        finishedAt: exit.finishedAt,
      },
    }),
    ...(busy && { busy }),
  };
}

/**
 * The run's end, if it has ended: bubblewrap wrote the exit code (the status file's mtime is
 * when), or its monitor is gone without a word (killed, or the host restarted).
 */
export function observeExit(ctx: RuntimeContext, c: Loaded, run: RunRecord): ExitRecord | undefined {
  const { driver } = ctx;
  // Alive first, then the code: bubblewrap writes the code and exits, so reading the code first
  // could miss a write that lands just before the liveness check sees it gone ("unknown").
  const monitoring = run.bwrap !== undefined && driver.alive(run.bwrap);
  const code = driver.readExitCode(c.paths);
  if (code === undefined && monitoring) return undefined;
  const usage = driver.usage(run);
  if (code === undefined) {
    return {
      exitCode: null,
      signal: null,
      reason: 'unknown',
      finishedAt: null,
      cpuUserMs: usage.cpuUserMs,
      cpuSystemMs: usage.cpuSystemMs,
      peakMemoryBytes: usage.peakMemoryBytes,
    };
  }
  const exit = driver.decodeExit(code);
  const limits = c.config?.spec.limits ?? { outputBytes: 0 };
  const timedOut = readText(c.paths.timedOut) === run.id;
  return {
    exitCode: exit.exitCode,
    signal: exit.signal,
    reason: decideReason({ exit, usage, timedOut, limits }),
    finishedAt: mtime(c.paths.status),
    cpuUserMs: usage.cpuUserMs,
    cpuSystemMs: usage.cpuSystemMs,
    peakMemoryBytes: usage.peakMemoryBytes,
  };
}

/** The full record `inspect` prints and `list` returns. */
export function containerInfo(ctx: RuntimeContext, c: Loaded): ContainerInfo {
  const state = deriveState(ctx, c);
  const spec = c.config?.spec;
  const run = c.state?.run;
  const live = state.status === 'running' || state.status === 'stopping';
  return {
    name: c.name,
    createdAt: c.config?.createdAt ?? '',
    command: spec?.command ?? [],
    state,
    port: c.state?.port ?? null,
    ip: spec?.network === 'host' ? '127.0.0.1' : null,
    network: spec?.network ?? 'none',
    rootfs: c.config?.rootfs ?? { mode: 'host' },
    limits: run?.limits ?? {},
    notEnforced: run?.notEnforced ?? [],
    seccomp: (live ? run?.seccomp : undefined) ?? spec?.seccomp.mode ?? 'default',
    cgroup: live ? (run?.cgroup ?? null) : null,
    initPid: live ? (run?.init?.pid ?? null) : null,
    dir: c.paths.dir,
    trace: c.config?.trace
      ? {
          file: c.paths.trace,
          backend: run?.trace?.backend ?? c.config.trace.backend ?? null,
          recorderPid: run?.trace && ctx.driver.alive(run.trace.recorder) ? run.trace.recorder.pid : null,
        }
      : null,
    ...(spec && { spec }),
  } as ContainerInfo;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function mtime(file: string): string | null {
  try {
    return statSync(file).mtime.toISOString();
  } catch {
    return null;
  }
}
