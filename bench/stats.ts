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
