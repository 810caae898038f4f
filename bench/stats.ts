/** Small statistics for benchmarks: always compare against a baseline measured in the same run. */
export function summarize(samples: number[]): { median: number; p95: number; mean: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] ?? NaN;
  return { median: at(0.5), p95: at(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length, n: s.length };
}

export function table(rows: { name: string; samples: number[] }[], baseline: string): string {
  const base = summarize(rows.find((r) => r.name === baseline)?.samples ?? []);
  const lines = [
    `${'case'.padEnd(34)}${'n'.padStart(5)}${'median ms'.padStart(11)}${'p95 ms'.padStart(9)}${`× ${baseline}`.padStart(18)}`,
  ];
  for (const r of rows) {
    const s = summarize(r.samples);
    lines.push(
      `${r.name.padEnd(34)}${String(s.n).padStart(5)}${s.median.toFixed(2).padStart(11)}${s.p95.toFixed(2).padStart(9)}${(s.median / base.median).toFixed(2).padStart(18)}`,
    );
  }
  return lines.join('\n');
}

/**
 * A confidence interval for the median that assumes nothing about the distribution: the k-th
 * smallest and k-th largest samples, with k the largest rank such that a Binomial(n, 1/2) falls
 * below it with probability at most (1 - confidence) / 2. With 20 samples and 95%, that is the
 * 6th and the 15th (95.9% in fact). Undefined when there are too few samples for the confidence.
 */
export function medianInterval(
  samples: readonly number[],
  confidence = 0.95,
): { low: number; high: number; coverage: number } | undefined {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const tail = (1 - confidence) / 2;
  // below[k] = P(X < k) for X ~ Binomial(n, 1/2), built up term by term.
  let below = 0;
  let term = 0.5 ** n; // P(X = 0)
  let k = 0;
  while (k < n && below + term <= tail) {
    below += term;
    term = (term * (n - k)) / (k + 1);
    k++;
  }
  if (k === 0) return undefined;
  return { low: s[k - 1] as number, high: s[n - k] as number, coverage: 1 - 2 * below };
}

/** The median; the mean of the middle two for an even count. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** ` (96% interval 1.050-1.110)` for medianInterval's result, or nothing without one. */
export function intervalText(samples: readonly number[]): string {
  const ci = medianInterval(samples);
  return ci
    ? ` (${(100 * ci.coverage).toFixed(0)}% interval ${ci.low.toFixed(3)}-${ci.high.toFixed(3)})`
    : '';
}
