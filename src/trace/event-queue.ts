import type { TraceEvent } from './types.js';

/**
 * A per-consumer buffer behind `tracer.events()`. It is bounded: a consumer that stops reading
 * must not grow corral's memory without limit, so past `capacity` events are dropped and the
 * consumer is told once, with a `lost` event, when it catches up.
 */
export class EventQueue implements AsyncIterableIterator<TraceEvent> {
  private buffer: TraceEvent[] = [];
  // Index of the next event to hand out: shift() on a long array costs O(n) per call.
  private head = 0;
  private waiting: ((r: IteratorResult<TraceEvent>) => void) | undefined;
  private dropped = 0;
  private ended = false;

  constructor(
    private readonly capacity: number,
    private readonly sandbox: () => string,
    private readonly onClose: () => void,
  ) {}

  push(event: TraceEvent): void {
    if (this.ended) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: event, done: false });
      return;
    }
    if (this.size() >= this.capacity) {
      this.dropped++;
      return;
    }
    this.buffer.push(event);
  }

  /** No more events: the consumer drains what is buffered, then sees the end. */
  end(): void {
    this.ended = true;
    if (this.waiting && this.size() === 0 && this.dropped === 0) {
      this.waiting({ value: undefined, done: true });
      this.waiting = undefined;
    }
  }

  next(): Promise<IteratorResult<TraceEvent>> {
    if (this.dropped > 0 && this.size() === 0) {
      const lost: TraceEvent = {
        type: 'lost',
        timestamp: new Date().toISOString(),
        sandbox: this.sandbox(),
        reason: `${this.dropped} events dropped: this consumer read too slowly (buffer ${this.capacity})`,
      };
      this.dropped = 0;
      return Promise.resolve({ value: lost, done: false });
    }
    if (this.size() > 0) {
      const value = this.buffer[this.head++] as TraceEvent;
      if (this.head > 1024 && this.head * 2 > this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private size(): number {
    return this.buffer.length - this.head;
  }

  return(): Promise<IteratorResult<TraceEvent>> {
    this.buffer = [];
    this.head = 0;
    this.dropped = 0;
    this.end();
    this.onClose();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
