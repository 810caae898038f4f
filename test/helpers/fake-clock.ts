import type { Clock } from '../../src/limits/types.js';

interface Timer {
  at: number;
  resolve: () => void;
  held: boolean;
}

/** A clock that moves only when a test advances it; sleeps resolve in deadline order. */
export class FakeClock implements Clock {
  private t = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal: AbortSignal, hold = false): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer: Timer = { at: this.t + Math.max(0, ms), resolve, held: hold };
      this.timers.push(timer);
      signal.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Sleeps that are keeping the process alive right now. */
  get held(): number {
    return this.timers.filter((t) => t.held).length;
  }

  /** Moves time forward by `ms`, firing each sleep at its deadline and letting its work run. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((x) => x.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.resolve();
      await settle();
    }
    this.t = target;
    await settle();
  }
}

/** Lets every pending promise chain run to its next real wait. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
