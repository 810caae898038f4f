import { Worker } from 'node:worker_threads';
import { UnsupportedError } from '../../../errors.js';
import type { TraceEvent } from '../../../trace/types.js';
import type { FromReader, ReaderOptions, ToReader } from './connector-protocol.js';

interface Sink {
  readonly label: string;
  readonly deliver: (event: TraceEvent) => void;
}

/** One running reader thread and what is waiting on it. */
interface Reader {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly waiters: Map<string, () => void>;
  realtime: string | null;
  dead: boolean;
}

/**
 * One proc connector reader per corral process, shared by every tracer in it: the kernel sends
 * each event once per socket, so one socket for N sandboxes costs N times less than N sockets.
 * The reader thread starts with the first tracer and is shut down (socket closed) after the last.
 */
export class ConnectorHub {
  private static shared: ConnectorHub | undefined;
  private reader: Reader | undefined;
  private users = 0;
  private nextId = 1;
  private readonly sinks = new Map<number, Sink>();

  /** The process-wide hub. Options apply when its reader thread (re)starts. */
  static get(options: ReaderOptions): ConnectorHub {
    ConnectorHub.shared ??= new ConnectorHub();
    ConnectorHub.shared.options = options;
    return ConnectorHub.shared;
  }

  private options: ReaderOptions | undefined;

  /** How the reader thread is scheduled, e.g. `SCHED_FIFO 1 (thread 123)`; null if normal. */
  get realtime(): string | null {
    return this.reader?.realtime ?? null;
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
    target: { label: string; initPid: number; cgroupName: string | undefined; existing: number[] },
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
    const exited = new Promise<void>((resolve) => r.worker.once('exit', () => resolve()));
    await this.ask(r, { op: 'close' }, 'closed');
    r.dead = true;
    // The reader ends on its own once its socket is closed; terminate() is only the fallback,
    // since terminating a thread inside the native netlink module aborts the process.
    const fallback = setTimeout(() => void r.worker.terminate(), 2000);
    await exited;
    clearTimeout(fallback);
  }

  private boot(): Reader {
    const entry = readerEntry();
    const worker = new Worker(entry.source, { eval: entry.eval, workerData: this.options });
    // A forgotten tracer must not keep corral alive; a running sandbox does that anyway.
    worker.unref();
    let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const r: Reader = { worker, ready, waiters: new Map(), realtime: null, dead: false };
    worker.on('message', (m: FromReader) => {
      if (m.op === 'ready') {
        r.realtime = m.realtime;
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
    worker.on('error', (err) => {
      settle?.reject(err);
      this.died(r, `the proc connector reader failed: ${err.message}`);
    });
    worker.on('exit', () => this.died(r, 'the proc connector reader thread exited'));
    return r;
  }

  private request(message: ToReader, answer: string): Promise<void> {
    const r = this.reader;
    return r ? this.ask(r, message, answer) : Promise.resolve();
  }

  private ask(r: Reader, message: ToReader, answer: string): Promise<void> {
    if (r.dead) return Promise.resolve();
    return new Promise((resolve) => {
      r.waiters.set(answer, resolve);
      r.worker.postMessage(message);
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
    void r.worker.terminate();
  }
}

/**
 * Built code runs the compiled reader. From TypeScript sources (tests, development) the reader is
 * TypeScript too, and Node 20 does not carry tsx's loader into workers: the worker registers it.
 */
function readerEntry(): { source: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { source: new URL('./connector-reader.js', import.meta.url), eval: false };
  const tsx = import.meta.resolve('tsx/esm/api');
  const reader = new URL('./connector-reader.ts', import.meta.url).href;
  return {
    source: `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(reader)}); })`,
    eval: true,
  };
}
