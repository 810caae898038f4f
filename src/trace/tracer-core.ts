import { StateError } from '../errors.js';
import { EventQueue } from './event-queue.js';
import type { ExecEvent, TraceCounts, TraceEvent, TraceListener, TraceTarget, Tracer } from './types.js';

/** Default bound of each `events()` consumer's buffer. */
export const EVENT_QUEUE_CAPACITY = 100_000;

/** The `sandbox` field of a target's events. */
export function sandboxLabel(target: TraceTarget): string {
  return target.sandbox ?? target.cgroupName ?? `pid-${target.initPid}`;
}

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * What every backend shares: the start/stop state machine, listeners, `events()` streams and the
 * counters. A backend implements `open` (begin watching) and `close` (deliver what it has seen,
 * then release everything) and calls `emit` for each event.
 */
export abstract class TracerCore implements Tracer {
  abstract readonly backend: string;
  private state: State = 'idle';
  private readonly listeners = new Set<TraceListener>();
  private readonly queues = new Set<EventQueue>();
  private label = '';
  private stopping: Promise<TraceCounts> | undefined;
  private opening: Promise<void> | undefined;
  private tally = { execs: 0, execsWithArgv: 0, forks: 0, exits: 0, lost: 0 };

  protected abstract open(target: TraceTarget, label: string): Promise<void>;
  protected abstract close(): Promise<void>;

  async start(target: TraceTarget): Promise<void> {
    if (this.state !== 'idle') throw new StateError(`cannot start the tracer: it is ${this.state}`);
    if (!Number.isInteger(target.initPid) || target.initPid <= 0)
      throw new StateError(`cannot trace: the init pid must be a positive integer, got ${target.initPid}`);
    this.state = 'starting';
    this.label = sandboxLabel(target);
    this.opening = this.open(target, this.label);
    try {
      await this.opening;
      if (this.state === 'starting') this.state = 'running';
    } catch (err) {
      this.state = 'stopped';
      this.endQueues();
      // Released here, once: a later stop() has nothing left to do.
      this.stopping ??= this.close()
        .catch(() => undefined)
        .then(() => this.counts());
      await this.stopping;
      throw err;
    }
  }

  stop(): Promise<TraceCounts> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      this.endQueues();
    }
    this.stopping ??= (async () => {
      // A start under way finishes first: what it is acquiring is then released here, not left
      // behind for nobody to release.
      await this.opening?.catch(() => undefined);
      this.state = 'stopping';
      try {
        await this.close();
      } finally {
        this.state = 'stopped';
        this.endQueues();
      }
      return this.counts();
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  events(): AsyncIterable<TraceEvent> {
    const queue = new EventQueue(
      EVENT_QUEUE_CAPACITY,
      () => this.label,
      () => this.queues.delete(queue),
    );
    if (this.state === 'stopped') queue.end();
    else this.queues.add(queue);
    return queue;
  }

  onEvent(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onExec(listener: TraceListener<ExecEvent>): () => void {
    return this.onEvent((e) => {
      if (e.type === 'exec') listener(e);
    });
  }

  counts(): TraceCounts {
    return { ...this.tally };
  }

  /** Hands an event to every consumer. A throwing listener must not stop the others. */
  protected emit(event: TraceEvent): void {
    if (this.state === 'stopped') return;
    this.count(event);
    for (const q of this.queues) q.push(event);
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private count(e: TraceEvent): void {
    if (e.type === 'exec') {
      this.tally.execs++;
      if (e.argv === 'full' || e.argv === 'split') this.tally.execsWithArgv++;
    } else if (e.type === 'fork') this.tally.forks++;
    else if (e.type === 'exit') this.tally.exits++;
    else this.tally.lost++;
  }

  private endQueues(): void {
    for (const q of this.queues) q.end();
    this.queues.clear();
  }
}
