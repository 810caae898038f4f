import { spawn, type ChildProcess } from 'node:child_process';
import { UnsupportedError } from '../../../errors.js';
import { nodeEntry } from '../../../util/node-entry.js';
import type { TraceEvent } from '../../../trace/types.js';
import type { FromReader, ReaderOptions, ToReader } from './connector-protocol.js';

interface Sink {
  readonly label: string;
  readonly deliver: (event: TraceEvent) => void;
}

/** One running reader process and what is waiting on it. */
interface Reader {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly waiters: Map<string, () => void>;
  realtime: string | null;
  /** The capture (the perl program holding the netlink sockets), a child of the reader. */
  capturePid?: number;
  dead: boolean;
}

/**
 * One proc connector reader per corral process, shared by every tracer in it: the kernel sends
 * each event once per socket, so one socket for N sandboxes costs N times less than N sockets.
 * The reader starts with the first tracer and ends (socket closed) after the last one stops.
 */
export class ConnectorHub {
  private static shared: ConnectorHub | undefined;
  private reader: Reader | undefined;
  private users = 0;
  private nextId = 1;
  private readonly sinks = new Map<number, Sink>();
  private options: ReaderOptions | undefined;

  /** The process-wide hub. Options apply when its reader (re)starts. */
  static get(options: ReaderOptions): ConnectorHub {
    ConnectorHub.shared ??= new ConnectorHub();
    ConnectorHub.shared.options = options;
    return ConnectorHub.shared;
  }

  /** How the reader is scheduled, e.g. `SCHED_FIFO 1 (pid 123)`; null if normally. */
  get realtime(): string | null {
    return this.reader?.realtime ?? null;
  }

  /** Host pid of the reader process while it runs. */
  get readerPid(): number | undefined {
    return this.reader?.child.pid;
  }

  /** Host pid of the reader's capture process while it runs. */
  get capturePid(): number | undefined {
    return this.reader?.capturePid;
  }

  /** Starts the reader if needed; resolves when the kernel has accepted the subscription. */
  async acquire(): Promise<void> {
    this.users++;
    this.reader ??= this.boot();
    try {
      await this.reader.ready;
    } catch (err) {
      this.users = Math.max(0, this.users - 1);
      throw err;
    }
  }

  async add(
    target: {
      label: string;
      initPid: number;
      cgroupName: string | undefined;
      joiners: boolean;
      existing: number[];
    },
    deliver: (event: TraceEvent) => void,
  ): Promise<number> {
    const id = this.nextId++;
    this.sinks.set(id, { label: target.label, deliver });
    await this.request({ op: 'add', id, ...target }, `added:${id}`);
    return id;
  }

  /** Delivers everything the kernel reported up to now for `id`, then forgets it. */
  async remove(id: number): Promise<void> {
    await this.request({ op: 'remove', id }, `removed:${id}`);
    this.sinks.delete(id);
  }

  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    const r = this.reader;
    if (this.users > 0 || !r) return;
    // Detached first: a tracer starting meanwhile gets a fresh reader, not this closing one.
    this.reader = undefined;
    const exited = new Promise<void>((resolve) => r.child.once('exit', () => resolve()));
    await this.ask(r, { op: 'close' }, 'closed');
    r.dead = true;
    const fallback = setTimeout(() => r.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(fallback);
  }

  private boot(): Reader {
    const { file, execArgv } = nodeEntry(import.meta.url, 'connector-reader');
    const child = spawn(process.execPath, [...execArgv, file, JSON.stringify(this.options)], {
      // Its own session: a Ctrl-C meant for the sandbox must not end the trace.
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    // A forgotten tracer must not keep corral alive (a running sandbox does that anyway); the
    // channel is held only while corral waits for an answer (see ask).
    child.unref();
    let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject })).finally(() =>
      child.channel?.unref(),
    );
    const r: Reader = { child, ready, waiters: new Map(), realtime: null, dead: false };
    child.on('message', (m: FromReader) => {
      if (m.op === 'ready') {
        r.realtime = m.realtime;
        r.capturePid = m.capturePid;
        settle?.resolve();
      } else if (m.op === 'failed') {
        this.died(r, m.message);
        settle?.reject(
          new UnsupportedError(
            `the proc connector is not available: ${m.message}`,
            m.code === 'EPERM' ? 'run corral as root (CAP_NET_ADMIN)' : 'use the /proc polling tracer',
          ),
        );
      } else if (m.op === 'events') {
        for (const { id, event } of m.batch) this.sinks.get(id)?.deliver(event);
      } else {
        const key = m.op === 'closed' ? 'closed' : `${m.op}:${m.id}`;
        r.waiters.get(key)?.();
        r.waiters.delete(key);
      }
    });
    child.on('error', (err) => {
      settle?.reject(err);
      this.died(r, `the proc connector reader failed: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      settle?.reject(new Error(`the proc connector reader exited (${signal ?? `code ${code}`})`));
      this.died(r, `the proc connector reader exited (${signal ?? `code ${code}`})`);
    });
    return r;
  }

  private request(message: ToReader, answer: string): Promise<void> {
    const r = this.reader;
    return r ? this.ask(r, message, answer) : Promise.resolve();
  }

  private ask(r: Reader, message: ToReader, answer: string): Promise<void> {
    if (r.dead) return Promise.resolve();
    r.child.channel?.ref();
    return new Promise<void>((resolve) => {
      r.waiters.set(answer, resolve);
      r.child.send(message);
    }).finally(() => {
      if (r.waiters.size === 0) r.child.channel?.unref();
    });
  }

  /** The reader died unexpectedly: every tracer is told its record is incomplete. */
  private died(r: Reader, reason: string): void {
    if (r.dead) return;
    r.dead = true;
    if (this.reader === r) {
      this.reader = undefined;
      this.users = 0;
      const timestamp = new Date().toISOString();
      for (const s of this.sinks.values()) s.deliver({ type: 'lost', timestamp, sandbox: s.label, reason });
    }
    for (const w of r.waiters.values()) w();
    r.waiters.clear();
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  }
}
