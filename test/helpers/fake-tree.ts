import type { ProcessSample, Signaller, TreeSampler } from '../../src/limits/types.js';
import type { FakeClock } from './fake-clock.js';

interface FakeProc {
  pid: number;
  ppid: number;
  pgid: number | undefined;
  /** CPUs it would use if never stopped. */
  rate: number;
  rssBytes: number;
  cpuMs: number;
  lastT: number;
  stopped: boolean;
  startTime: string | undefined;
}

/**
 * An in-memory process tree driven by a FakeClock: each process burns `rate` CPUs while it is
 * not stopped. It is both the sampler and the signal target of a limiter under test.
 */
export class FakeTree implements TreeSampler {
  readonly source = 'fake';
  readonly signals: { pid: number; signal: NodeJS.Signals; t: number }[] = [];
  readonly procs = new Map<number, FakeProc>();
  samples = 0;
  failNext = false;

  constructor(private readonly clock: FakeClock) {}

  add(p: {
    pid: number;
    ppid?: number;
    pgid?: number;
    rate?: number;
    rssBytes?: number;
    startTime?: string;
  }): this {
    this.procs.set(p.pid, {
      pid: p.pid,
      ppid: p.ppid ?? 1,
      pgid: p.pgid,
      rate: p.rate ?? 0,
      rssBytes: p.rssBytes ?? 0,
      cpuMs: 0,
      lastT: this.clock.now(),
      stopped: false,
      startTime: p.startTime,
    });
    return this;
  }

  set(pid: number, change: Partial<Pick<FakeProc, 'rate' | 'rssBytes'>>): void {
    const p = this.get(pid);
    this.advance(p);
    Object.assign(p, change);
  }

  get(pid: number): FakeProc {
    const p = this.procs.get(pid);
    if (!p) throw new Error(`no fake process ${pid}`);
    return p;
  }

  cpuMs(pid: number): number {
    const p = this.get(pid);
    this.advance(p);
    return p.cpuMs;
  }

  async sample(roots: readonly number[]): Promise<readonly ProcessSample[]> {
    this.samples++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('sampler failed');
    }
    const out: ProcessSample[] = [];
    const seen = new Set<number>();
    const queue = roots.filter((r) => this.procs.has(r));
    while (queue.length > 0) {
      const pid = queue.shift() as number;
      if (seen.has(pid)) continue;
      seen.add(pid);
      const p = this.get(pid);
      this.advance(p);
      out.push({
        pid,
        ppid: p.ppid,
        pgid: p.pgid,
        cpuUserMs: p.cpuMs,
        cpuSystemMs: 0,
        rssBytes: p.rssBytes,
        ...(p.startTime !== undefined && { startTime: p.startTime }),
      });
      for (const c of this.procs.values()) if (c.ppid === pid) queue.push(c.pid);
    }
    return out;
  }

  readonly signal: Signaller = (pid, signal) => {
    this.signals.push({ pid, signal, t: this.clock.now() });
    const targets = pid < 0 ? [...this.procs.values()].filter((p) => p.pgid === -pid) : [this.procs.get(pid)];
    let hit = false;
    for (const p of targets) {
      if (!p) continue;
      hit = true;
      this.advance(p);
      if (signal === 'SIGSTOP') p.stopped = true;
      else if (signal === 'SIGCONT') p.stopped = false;
      else if (signal === 'SIGKILL') this.procs.delete(p.pid);
    }
    return hit;
  };

  private advance(p: FakeProc): void {
    const now = this.clock.now();
    if (!p.stopped) p.cpuMs += p.rate * (now - p.lastT);
    p.lastT = now;
  }
}
