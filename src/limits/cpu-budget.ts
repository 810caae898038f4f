/**
 * The CPU allowance of a throttled tree, as a token bucket in CPU-milliseconds: it fills at
 * `cpus` per millisecond of wall time and drains by the CPU time the tree used. At most one
 * interval's worth is carried from one sample to the next: a short burst is allowed, a long
 * idle time cannot be banked for a long burst later.
 *
 * When the tree has used more than it was allowed, the pause is the time the allowance needs
 * to repay the debt: excess / cpus. A tree spinning one core under `cpus 0.5` over a 500 ms
 * interval owes 250 ms and is stopped for 500 ms, so it gets exactly half a core. (Pausing for
 * excess/usage of the interval instead, as is sometimes done, leaves it two thirds of a core.)
 */
export class CpuBudget {
  private tokens = 0;
  private last: { t: number; cpuMs: number } | undefined;
  private readonly capacity: number;

  constructor(
    private readonly cpus: number,
    intervalMs: number,
  ) {
    this.capacity = cpus * intervalMs;
  }

  /**
   * Records the tree's total CPU time at wall time `t` and returns how long to stop it for
   * (0 when it is within its allowance). The pause is part of the wall time of the next call.
   */
  observe(t: number, cpuMs: number): number {
    const last = this.last;
    this.last = { t, cpuMs };
    if (!last) return 0;
    // A process leaving the tree takes its CPU time with it: never count that as negative use.
    const used = Math.max(0, cpuMs - last.cpuMs);
    const elapsed = Math.max(0, t - last.t);
    // What was earned in this window counts in full; what is carried over is capped.
    this.tokens = Math.min(this.tokens, this.capacity) + this.cpus * elapsed - used;
    if (this.tokens >= 0) {
      this.tokens = Math.min(this.tokens, this.capacity);
      return 0;
    }
    return -this.tokens / this.cpus;
  }
}
