import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CpuBudget } from '../../../src/limits/cpu-budget.js';

/** Simulates a tree that wants `demand` CPUs, sampled every `interval`, paused as told. */
function simulate(limit: number, demand: number, interval: number, wallMs: number): number {
  const budget = new CpuBudget(limit, interval);
  let t = 0;
  let cpu = 0;
  budget.observe(t, cpu);
  while (t < wallMs) {
    t += interval;
    cpu += demand * interval;
    const pause = budget.observe(t, cpu);
    t += pause;
  }
  return cpu / t;
}

describe('CpuBudget', () => {
  it('asks for no pause while the tree stays within its allowance', () => {
    const b = new CpuBudget(0.5, 500);
    b.observe(0, 0);
    assert.equal(b.observe(500, 200), 0);
    assert.equal(b.observe(1000, 450), 0);
  });

  it('pauses a one-core spinner under 0.5 CPU for excess / limit, one full interval', () => {
    const b = new CpuBudget(0.5, 500);
    b.observe(0, 0);
    assert.equal(b.observe(500, 500), 500);
  });

  it('converges to the limit for any demand above it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 2, noNaN: true }),
        fc.double({ min: 1.05, max: 8, noNaN: true }),
        fc.integer({ min: 50, max: 1000 }),
        (limit, factor, interval) => {
          const share = simulate(limit, Math.min(limit * factor, 16), interval, 200 * interval);
          assert.ok(Math.abs(share - limit) / limit < 0.02, `limit ${limit} got ${share}`);
        },
      ),
    );
  });

  it('does not let idle time be banked for a long burst later', () => {
    const b = new CpuBudget(0.5, 500);
    b.observe(0, 0);
    b.observe(60_000, 0); // a minute idle
    // Then a full second of one core: it earned 500 ms in that second and kept only one
    // interval's allowance (250 ms) from before, so it owes 250 ms: a 500 ms pause.
    assert.equal(b.observe(61_000, 1000), 500);
  });

  it('never treats CPU time that left the tree as negative use', () => {
    const b = new CpuBudget(1, 500);
    b.observe(0, 5000);
    assert.equal(b.observe(500, 100), 0);
    assert.equal(b.observe(1000, 700), 0);
  });
});
