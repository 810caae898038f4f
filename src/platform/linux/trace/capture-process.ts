import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { parseCaptureLine } from './capture-line.js';
import type { ProcEvent } from './proc-event.js';

/**
 * A capture: the small perl process that gets the kernel's process events (from the proc
 * connector, capture-script.ts, or from corral's eBPF programs, ebpf/capture-script.ts) and
 * writes them as lines. Both speak the same line protocol, so this drives either.
 */
export interface Capture {
  readonly pid: number;
  /** How it gets events: `split` or `single` (proc connector sockets), `bpf` (eBPF ring buffer). */
  readonly mode: 'single' | 'split' | 'bpf';
  /** How the capture is scheduled, e.g. `SCHED_FIFO 1 (pid 123)`; null: normal priority. */
  readonly realtime: string | null;
  /** Resolves once every event the kernel had reported when it was called has been delivered. */
  drain(): Promise<void>;
  /** Follow these processes and what they fork (the capture drops everything it does not follow). */
  follow(pids: readonly number[]): void;
  /**
   * Follow (or stop following) processes that exec inside a cgroup called `name`: corral exec
   * joins a container from outside its tree.
   */
  followCgroup(name: string, on: boolean): void;
  /** Let every event on the host through (after lost events, when the tree may have holes). */
  passAll(): void;
  /** Ends it: the kernel stops reporting to it, and everything it holds is released. */
  close(): Promise<void>;
}

export interface CaptureOptions {
  /** Called with events in the kernel's order, in batches. */
  readonly onEvents: (events: ProcEvent[]) => void;
  /** Called when the kernel dropped events (a full buffer). */
  readonly onOverflow: () => void;
  /** Called when the capture ends without being closed. */
  readonly onError: (err: Error) => void;
}

/** The error of a capture that could not start; `code` says why (EPERM: privileges are missing). */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** What to do about a capture that could not start because perl is missing (code ENOPERL). */
export const PERL_FIX = 'apt-get install perl-base (every Debian and Ubuntu system has it)';

/** Names of the errnos a capture reports in its `N` line, for CaptureError's code. */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  7: 'E2BIG',
  13: 'EACCES',
  22: 'EINVAL',
  110: 'ETIMEDOUT',
};

/** What differs between the captures: their program, and how they ask for what they follow. */
export interface CaptureSource {
  readonly script: string;
  readonly args: readonly string[];
  /** How long perl may take to say it is ready, ms (after its own timeouts). */
  readonly startTimeoutMs: number;
  /** The error for an `N ERRNO WHY` line. */
  refused(errno: number, why: string): Error;
  /** The command line that follows (or stops following) a cgroup; undefined: nothing to say. */
  cgroupCommand(name: string, on: boolean): string | undefined;
  /** Raises the capture's priority once it runs; resolves to how it is scheduled. */
  schedule?(pid: number): Promise<string | null>;
}

/**
 * Starts a capture and resolves once it reported itself ready: from then on every fork, exec
 * and exit of the processes it is told to follow is delivered. Rejects with the source's errors.
 */
export function openCapture(source: CaptureSource, options: CaptureOptions): Promise<Capture> {
  const child = spawn('perl', ['-e', source.script, '--', ...source.args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    // Its own session: a Ctrl-C meant for the sandbox must not end the trace.
    detached: true,
  });
  child.stdin.on('error', () => undefined); // it may end first; its exit says why
  // A forgotten tracer must not keep corral alive (a running sandbox does that anyway): the
  // pipes hold the event loop only while corral waits for an answer. The capture ends when its
  // stdin closes, so it never outlives corral either.
  const pipes = [child.stdin as unknown as Socket, child.stdout as unknown as Socket];
  let waiting = 0;
  const hold = (on: boolean) => {
    waiting += on ? 1 : -1;
    for (const p of pipes) {
      if (waiting > 0) p.ref();
      else p.unref();
    }
  };
  child.unref();
  hold(true); // until it is ready
  let state: 'starting' | 'running' | 'closing' = 'starting';
  let pending: ProcEvent[] = [];
  const drains: (() => void)[] = [];
  let settle: { resolve: (c: Capture) => void; reject: (e: Error) => void } | undefined;
  const opened = new Promise<Capture>((resolve, reject) => (settle = { resolve, reject }));

  // Lines arrive in the capture's batches; they are handed on per chunk, not per line. The
  // capture writes ASCII only (bytes as hex), and a reader of its own costs less garbage than
  // readline: at thousands of events a second, V8's collector takes CPU the sandbox wants.
  const deliver = () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    options.onEvents(batch);
  };
  let rest = '';
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line);
    deliver();
  });
  const onLine = (line: string) => {
    const l = parseCaptureLine(line);
    if (!l) return;
    if (l.kind === 'event') {
      pending.push(l.event);
    } else if (l.kind === 'overflow') {
      deliver();
      options.onOverflow();
    } else if (l.kind === 'drained') {
      deliver();
      drains.shift()?.();
    } else if (l.kind === 'ready') {
      state = 'running';
      const mode = l.mode;
      void (source.schedule?.(child.pid as number) ?? Promise.resolve(null)).then((realtime) =>
        settle?.resolve({
          pid: child.pid as number,
          mode,
          realtime,
          drain: () =>
            new Promise<void>((resolve) => {
              if (state !== 'running') return resolve();
              hold(true);
              drains.push(() => {
                hold(false);
                resolve();
              });
              child.stdin.write('D\n');
            }),
          follow: (pids) => tell(pids.map((p) => `T ${p}\n`).join('')),
          followCgroup: (name, on) => {
            // A name is one path component of corral's making; anything else could not match.
            if (!/^[^\s/]+$/.test(name)) return;
            const line = source.cgroupCommand(name, on);
            if (line !== undefined) tell(`${line}\n`);
          },
          passAll: () => tell('A\n'),
          close,
        }),
      );
    } else {
      settle?.reject(source.refused(l.errno, l.why));
    }
  };

  // The capture has its own timeouts for the kernel's answers; this one covers perl itself.
  const guard = setTimeout(
    () => settle?.reject(new CaptureError('the trace capture did not start', 'ETIMEDOUT')),
    source.startTimeoutMs,
  );
  void opened
    .finally(() => {
      clearTimeout(guard);
      hold(false);
    })
    .catch(() => undefined);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', (err: NodeJS.ErrnoException) => {
    settle?.reject(
      err.code === 'ENOENT'
        ? new CaptureError('perl is not installed: the trace capture is a small perl program', 'ENOPERL')
        : err,
    );
  });
  child.once('close', (code, signal) => {
    deliver();
    for (const d of drains.splice(0)) d();
    const err = new Error(`the trace capture exited (${signal ?? `code ${code}`})`);
    settle?.reject(err);
    if (state === 'running') options.onError(err);
    state = 'closing';
  });

  function tell(lines: string): void {
    if (state === 'running' && lines) child.stdin.write(lines);
  }

  function close(): Promise<void> {
    if (state === 'closing') return exited;
    state = 'closing';
    hold(true);
    child.stdin.end();
    const fallback = setTimeout(() => child.kill('SIGKILL'), 1000);
    return exited.finally(() => {
      clearTimeout(fallback);
      hold(false);
    });
  }

  return opened.catch((err: unknown) => {
    state = 'closing';
    child.kill('SIGKILL');
    throw err;
  });
}
