import { writeFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { LaunchRequest, LaunchedProcess, ProcessLauncher } from '../../../process/types.js';
import { runCgroupName } from '../cgroup/gc.js';
import type { Cgroup, CgroupDriver } from '../cgroup/types.js';
import { execLine } from './exec-line.js';
import { DEFINE_NL } from './shell-quote.js';

/**
 * Warm starts. Moving a process into a cgroup takes the kernel's cgroup threadgroup lock for
 * writing, which waits for an RCU grace period unless another move happened a few milliseconds
 * before: measured here, 7 ms per sandbox when runs are spread out, more than bubblewrap itself
 * takes. A spare hides that: a host /bin/sh started as the sandbox user with the sandbox's stdio
 * and control pipes, moved into a fresh cgroup while corral is idle, then parked reading one line.
 * A run that matches its shape writes the limits into that cgroup and sends the prlimit → bwrap
 * command line; bwrap's init is born inside the limited cgroup, so nothing is moved at all.
 */
export interface WarmPoolOptions {
  /** A spare nobody takes within this long is dropped. Default 30 s. */
  readonly idleMs?: number;
  /** Most shapes (user, stdio) kept warm at once. Default 4. */
  readonly maxSpares?: number;
  /** The host shell the spare parks in. Default `/bin/sh`. */
  readonly shell?: string;
}

/**
 * A claimed spare. The caller writes its limits into `cgroup`, builds the bwrap command line
 * (closing `nullFds`, the descriptors the spare holds as /dev/null) and calls `start`, or
 * `abandon` if it gives up.
 */
export interface ClaimedSpare {
  readonly cgroup: Cgroup;
  readonly nullFds: readonly number[];
  /** Sends the command line (after `prelude`, shell commands); the spare then execs it (same pid). */
  start(request: LaunchRequest, prelude?: string): LaunchedProcess;
  abandon(): Promise<void>;
}

interface Spare {
  readonly key: string;
  readonly process: LaunchedProcess;
  readonly cgroup: Cgroup;
  readonly control: Duplex;
  readonly nullFds: readonly number[];
  ready: boolean;
  dead: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Only plain stdio modes can be prepared ahead (a file descriptor belongs to one run). */
export function spareKey(req: LaunchRequest): string | undefined {
  const modes = [req.stdin, req.stdout, req.stderr];
  if (!modes.every((m) => typeof m === 'string')) return undefined;
  if (req.cwd !== '/' || !req.detached) return undefined;
  // Not the inherited descriptors: the spare keeps those it was started with, and says which.
  return JSON.stringify([req.uid, req.gid, ...modes, req.extraPipes ?? 0]);
}

export class WarmPool {
  private readonly spares = new Map<string, Spare>();
  private closed = false;
  private hooked = false;

  constructor(
    private readonly launcher: ProcessLauncher,
    private readonly driver: CgroupDriver,
    private readonly options: WarmPoolOptions = {},
  ) {}

  /** A ready spare shaped like `shape` (user, stdio, pipes), or undefined: start cold. */
  claim(shape: LaunchRequest): ClaimedSpare | undefined {
    const key = spareKey(shape);
    const spare = key === undefined ? undefined : this.spares.get(key);
    if (!spare || !spare.ready || spare.dead) return undefined;
    this.spares.delete(spare.key);
    clearTimeout(spare.timer);
    const control = 3 + (shape.extraPipes ?? 0);
    return {
      cgroup: spare.cgroup,
      nullFds: spare.nullFds,
      start: (request, prelude) => {
        refAll(spare.process);
        spare.control.end(execLine(request, control, prelude));
        return { ...spare.process, extra: spare.process.extra.slice(0, -1) };
      },
      abandon: () => this.drop(spare),
    };
  }

  /** Starts preparing a spare shaped like `req`, unless one exists or the pool is full. */
  park(req: LaunchRequest): void {
    const key = spareKey(req);
    if (this.closed || key === undefined || this.spares.has(key)) return;
    if (this.spares.size >= (this.options.maxSpares ?? 4)) return;
    const control = 3 + (req.extraPipes ?? 0);
    let cgroup: Cgroup;
    try {
      cgroup = this.driver.create(runCgroupName('spare'));
    } catch {
      return; // no cgroup now: runs simply start cold
    }
    let process: LaunchedProcess;
    try {
      process = this.launcher.launch({
        file: this.options.shell ?? '/bin/sh',
        // `read` stops at the first newline: the line carries newlines as $NL (see shellQuote).
        // EOF (corral gone) fails the read, and the shell exits without running anything.
        args: ['-c', `${DEFINE_NL}; IFS= read -r line <&${control} && eval "$line"`],
        env: {},
        cwd: '/',
        ...(req.uid !== undefined && { uid: req.uid }),
        ...(req.gid !== undefined && { gid: req.gid }),
        stdin: req.stdin,
        stdout: req.stdout,
        stderr: req.stderr,
        extraPipes: control - 2,
        ...(req.nullFds && { nullFds: req.nullFds }),
        detached: true,
      });
    } catch {
      void cgroup.destroy().catch(() => undefined);
      return;
    }
    const ctl = process.extra.at(-1);
    if (!ctl) {
      process.kill('SIGKILL');
      void cgroup.destroy().catch(() => undefined);
      return;
    }
    this.hookExit();
    // The spare may die (or be dropped) with its line unsent: that is not an error of corral's.
    ctl.on('error', () => undefined);
    const spare: Spare = {
      key,
      process,
      cgroup,
      control: ctl,
      nullFds: req.nullFds ?? [],
      ready: false,
      dead: false,
      timer: undefined,
    };
    this.spares.set(key, spare);
    // A parked spare must never keep corral's event loop alive.
    unrefAll(process);
    // A spare that dies parked (killed, or its read failed) is dropped; once claimed it is the
    // run's process and its exit is the run's business.
    process.exit.then(
      () => void (this.spares.get(key) === spare && this.drop(spare)),
      () => void (this.spares.get(key) === spare && this.drop(spare)),
    );
    // Off the main thread: the move waits for the grace period, and nothing waits for it.
    Promise.all(cgroup.procsFiles().map((f) => writeFile(f, String(process.pid)))).then(
      () => {
        spare.ready = !spare.dead;
      },
      () => this.drop(spare),
    );
    spare.timer = setTimeout(() => this.drop(spare), this.options.idleMs ?? 30_000);
    spare.timer.unref();
  }

  /** Drops every spare (their shells exit, their cgroups go). */
  async close(): Promise<void> {
    this.closed = true;
    await this.dropAll();
  }

  /**
   * Spares never keep a process alive (they are unref'd); when it is about to end, they go with
   * it: all of them once the event loop is empty, and their shells at once on process.exit()
   * (their cgroups are then left for the next corral's stale-cgroup collection).
   */
  private hookExit(): void {
    if (this.hooked) return;
    this.hooked = true;
    process.on('beforeExit', () => {
      if (this.spares.size > 0) void this.dropAll();
    });
    process.on('exit', () => {
      for (const s of this.spares.values()) s.process.kill('SIGKILL');
    });
  }

  private async dropAll(): Promise<void> {
    await Promise.all([...this.spares.values()].map((s) => this.drop(s)));
  }

  private async drop(spare: Spare): Promise<void> {
    if (this.spares.get(spare.key) === spare) this.spares.delete(spare.key);
    clearTimeout(spare.timer);
    if (spare.dead) return;
    spare.dead = true;
    // Waited for below: it must hold the event loop open meanwhile (parked spares do not).
    refAll(spare.process);
    spare.control.destroy();
    spare.process.kill('SIGKILL');
    await spare.process.exit.catch(() => undefined);
    await spare.cgroup.destroy().catch(() => undefined);
  }
}

function unrefAll(p: LaunchedProcess): void {
  p.unref();
  for (const s of [p.stdin, p.stdout, p.stderr, ...p.extra]) (s as { unref?: () => void } | null)?.unref?.();
}

function refAll(p: LaunchedProcess): void {
  p.ref?.();
  for (const s of [p.stdin, p.stdout, p.stderr, ...p.extra]) (s as { ref?: () => void } | null)?.ref?.();
}
