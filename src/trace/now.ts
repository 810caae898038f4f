/** Wall-clock time as ISO 8601 with millisecond precision. */
export function isoNow(): string {
  return new Date().toISOString();
}

/**
 * Converts a CLOCK_MONOTONIC reading in nanoseconds (the proc connector's timestamps, and
 * `process.hrtime` on Linux) to an ISO wall-clock time, so each event carries the moment the
 * kernel saw it rather than the moment corral got round to reading it.
 */
export function monotonicToIso(monotonicNs: bigint): string {
  const ageMs = Number(process.hrtime.bigint() - monotonicNs) / 1e6;
  return new Date(Date.now() - Math.max(0, ageMs)).toISOString();
}
