import { execFile, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { CAPTURE_SCRIPT } from './capture-script.js';
import { parseCaptureLine } from './capture-line.js';
import type { ProcEvent } from './proc-event.js';

export interface ConnectorCaptureOptions {
  /** SO_RCVBUF of each netlink socket, bytes: room for bursts while the capture is busy. */
  readonly receiveBuffer: number;
  readonly subscribeTimeoutMs: number;
  /** How long the capture may hold events before writing them, ms (it writes at once on `drain`). */
  readonly flushMs: number;
  /** Ask for SCHED_FIFO priority 1 for the capture (through chrt). */
  readonly realtime: boolean;
  /** Called with events in the kernel's order, in batches of at most flushMs. */
  readonly onEvents: (events: ProcEvent[]) => void;
  /** Called when the kernel dropped events because a socket's buffer was full. */
  readonly onOverflow: () => void;
  /** Called when the capture ends without being closed. */
  readonly onError: (err: Error) => void;
}

export interface ConnectorCapture {
  readonly pid: number;
  /** `split` (an exec-only socket besides the ordered one, Linux >= 6.6) or `single`. */
  readonly mode: 'single' | 'split';
  /** How the capture is scheduled, e.g. `SCHED_FIFO 1 (pid 123)`; null: normal priority. */
  readonly realtime: string | null;
  /** Resolves once every event the kernel had reported when it was called has been delivered. */
  drain(): Promise<void>;
  /** Follow these processes and what they fork (the capture drops everything it does not follow). */
  follow(pids: readonly number[]): void;
  /**
   * Follow (or stop following) processes that exec inside a cgroup called `name`: corral exec
   * joins a container from outside its tree. While any is followed, each exec's pid namespace
   * and cgroup are read too.
   */
  followCgroup(name: string, on: boolean): void;
  /** Let every event on the host through (after lost events, when the tree may have holes). */
  passAll(): void;
  /** Unsubscribes (so the kernel stops generating events once nobody listens) and ends it. */
  close(): Promise<void>;
}

/** The error of a capture that could not subscribe; `code` is EPERM when privileges are missing. */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** What to do about a capture that could not start, by its error's code. */
export function captureFix(code: string | undefined): string {
  if (code === 'EPERM') return 'run corral as root (CAP_NET_ADMIN), or use a kernel >= 6.6';
  if (code === 'ENOPERL') return 'apt-get install perl-base (every Debian and Ubuntu system has it)';
  return 'a kernel with CONFIG_PROC_EVENTS, in the initial namespaces; else the /proc polling tracer';
}

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 13: 'EACCES', 110: 'ETIMEDOUT' };

/**
 * Starts the capture (capture-script.ts) and resolves once the kernel has accepted its
 * subscription: from then on every fork, exec and exit of the processes it is told to follow is
 * delivered, each exec with its argv, exe and cwd as read at the moment it was reported. Rejects
 * with the kernel's refusal (EPERM without CAP_NET_ADMIN before Linux 6.6), on timeout (the
 * kernel ignores requests from outside the initial user and pid namespaces), or when perl is
 * missing.
 */
export function openConnectorCapture(options: ConnectorCaptureOptions): Promise<ConnectorCapture> {
  const args = [
    String(options.receiveBuffer),
    String(options.flushMs),
    String(options.subscribeTimeoutMs),
    '1',
  ];
  const child = spawn('perl', ['-e', CAPTURE_SCRIPT, '--', ...args], {
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
  hold(true); // until it has subscribed
  let state: 'starting' | 'running' | 'closing' = 'starting';
  let pending: ProcEvent[] = [];
  const drains: (() => void)[] = [];
  let settle: { resolve: (c: ConnectorCapture) => void; reject: (e: Error) => void } | undefined;
  const opened = new Promise<ConnectorCapture>((resolve, reject) => (settle = { resolve, reject }));

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
      void (options.realtime ? raisePriority(child.pid as number) : Promise.resolve(null)).then((realtime) =>
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
            if (/^[^\s/]+$/.test(name)) tell(`${on ? 'C' : 'c'} ${name}\n`);
          },
          passAll: () => tell('A\n'),
          close,
        }),
      );
    } else {
      const code = ERRNO_NAMES[l.errno];
      settle?.reject(
        new CaptureError(
          `the kernel refused the proc connector subscription: ${l.why} (errno ${l.errno})`,
          code,
        ),
      );
    }
  };

  // The capture has its own timeout for the kernel's answer; this one covers perl itself.
  const guard = setTimeout(
    () => settle?.reject(new CaptureError('the proc connector capture did not start', 'ETIMEDOUT')),
    options.subscribeTimeoutMs + 5000,
  );
  void opened
    .finally(() => {
      clearTimeout(guard);
      hold(false);
    })
    .catch(() => undefined);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', (err: NodeJS.ErrnoException) => {
    const e =
      err.code === 'ENOENT'
        ? new CaptureError(
            'perl is not installed: the proc connector is read by a small perl program',
            'ENOPERL',
          )
        : err;
    settle?.reject(e);
  });
  child.once('close', (code, signal) => {
    deliver();
    for (const d of drains.splice(0)) d();
    const err = new Error(`the proc connector capture exited (${signal ?? `code ${code}`})`);
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

/**
 * SCHED_FIFO at the lowest real-time priority: the capture then runs as soon as an event arrives
 * instead of waiting for a busy CPU's time slice (measured here: otherwise 3-20% of argv is lost
 * in a burst of short execs). The kernel's real-time throttling still bounds it, and it starts
 * nothing that could inherit it.
 */
function raisePriority(pid: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('chrt', ['-f', '-p', '1', String(pid)], { timeout: 2000 }, (err) =>
      resolve(err ? null : `SCHED_FIFO 1 (pid ${pid})`),
    );
  });
}
