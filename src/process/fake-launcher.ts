import { Duplex, PassThrough, type Readable } from 'node:stream';
import type { LaunchExit, LaunchRequest, LaunchedProcess, ProcessLauncher } from './types.js';

/** The child's side of a fake process: what a scripted behaviour can do. */
export interface FakeChild {
  readonly pid: number;
  readonly request: LaunchRequest;
  /** What the parent writes to the child's stdin. */
  readonly stdin: Readable;
  writeStdout(data: string | Buffer): void;
  writeStderr(data: string | Buffer): void;
  /** Child end of extra pipe `fd` (3, 4, ...): read what the parent writes, write what it reads. */
  pipe(fd: number): { write(data: string): void; end(): void; readable: Readable };
  /** Ends the process. Safe to call more than once; only the first call counts. */
  exit(code: number | null, signal?: NodeJS.Signals | null): void;
  /** Resolves with the first signal the parent (or `launcher.signal`) sends. */
  readonly signalled: Promise<NodeJS.Signals>;
  /** Calls `listener` with every signal sent from now on (the first one too). */
  onSignal(listener: (signal: NodeJS.Signals) => void): void;
  /** Lets `launcher.signal(pid, …)` reach this child for an extra pid (e.g. a namespace init). */
  claimPid(pid: number): void;
}

export type FakeBehaviour = (child: FakeChild) => void | Promise<void>;

/** Fake pids start far above any real pid_max so a test can never signal a host process. */
const FIRST_FAKE_PID = 50_000_000;

/**
 * An in-memory ProcessLauncher. Each launch runs a scripted behaviour chosen by `script`; an
 * unscripted launch exits 0 at once. Every request and signal is recorded for assertions.
 */
export class FakeLauncher implements ProcessLauncher {
  readonly launches: LaunchRequest[] = [];
  readonly signals: { pid: number; signal: NodeJS.Signals | 0 }[] = [];
  private nextPid = FIRST_FAKE_PID;
  private readonly handlers = new Map<number, (signal: NodeJS.Signals) => void>();

  constructor(
    private readonly script: (request: LaunchRequest) => FakeBehaviour | undefined = () => undefined,
  ) {}

  launch(request: LaunchRequest): LaunchedProcess {
    this.launches.push(request);
    const pid = this.nextPid++;
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const toChild: PassThrough[] = [];
    const fromChild: PassThrough[] = [];
    const extra: Duplex[] = [];
    for (let i = 0; i < (request.extraPipes ?? 0); i++) {
      const down = new PassThrough();
      const up = new PassThrough();
      toChild.push(down);
      fromChild.push(up);
      extra.push(Duplex.from({ readable: up, writable: down }));
    }

    let settle!: (exit: LaunchExit) => void;
    const exit = new Promise<LaunchExit>((resolve) => (settle = resolve));
    let done = false;
    let onSignal!: (signal: NodeJS.Signals) => void;
    const signalled = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
    const finish = (code: number | null, signal: NodeJS.Signals | null = null) => {
      if (done) return;
      done = true;
      for (const s of [stdout, stderr, ...fromChild]) s.end();
      for (const [p, h] of this.handlers) if (h === deliver) this.handlers.delete(p);
      // Like child_process 'close': after the streams have ended.
      setImmediate(() => settle({ code, signal }));
    };
    const listeners: ((signal: NodeJS.Signals) => void)[] = [];
    const deliver = (signal: NodeJS.Signals) => {
      onSignal(signal);
      for (const l of listeners) l(signal);
    };
    this.handlers.set(pid, deliver);

    const child: FakeChild = {
      pid,
      request,
      stdin,
      writeStdout: (d) => void (!done && stdout.write(d)),
      writeStderr: (d) => void (!done && stderr.write(d)),
      pipe: (fd) => {
        const i = fd - 3;
        const up = fromChild[i];
        const down = toChild[i];
        if (!up || !down) throw new Error(`fake child ${pid} has no pipe at fd ${fd}`);
        return { write: (d) => void up.write(d), end: () => void up.end(), readable: down };
      },
      exit: finish,
      signalled,
      onSignal: (listener) => void listeners.push(listener),
      claimPid: (extraPid) => void this.handlers.set(extraPid, deliver),
    };

    const behaviour = this.script(request) ?? ((c: FakeChild) => c.exit(0));
    Promise.resolve()
      .then(() => behaviour(child))
      .catch((err: unknown) => {
        child.writeStderr(`fake behaviour failed: ${String(err)}\n`);
        finish(1);
      });

    return {
      pid,
      stdin: request.stdin === 'pipe' ? stdin : null,
      stdout: request.stdout === 'pipe' ? stdout : null,
      stderr: request.stderr === 'pipe' ? stderr : null,
      extra,
      exit,
      kill: (signal) => this.signal(pid, signal),
      unref: () => undefined,
    };
  }

  signal(pid: number, signal: NodeJS.Signals | 0): boolean {
    this.signals.push({ pid, signal });
    const handler = this.handlers.get(pid);
    if (!handler) return false;
    if (signal !== 0) handler(signal);
    return true;
  }
}
