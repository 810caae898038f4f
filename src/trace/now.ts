/** Wall-clock time as ISO 8601 with millisecond precision. */
export function isoNow(): string {
  return new Date().toISOString();
}

// Wall-clock minus monotonic time, in ms; refreshed each second (the wall clock may be stepped).
let offsetMs = 0;
let offsetAt = -Infinity;

/**
 * Converts a CLOCK_MONOTONIC reading in nanoseconds (the proc connector's timestamps, and
 * `process.hrtime` on Linux) to an ISO wall-clock time, so each event carries the moment the
 * kernel saw it rather than the moment corral got round to reading it. Thousands of events a
 * second come through here: the clocks' offset is read once a second, not per event.
 */
export function monotonicToIso(monotonicNs: bigint): string {
  const now = Date.now();
  if (Math.abs(now - offsetAt) > 1000) {
    offsetMs = now - Number(process.hrtime.bigint()) / 1e6;
    offsetAt = now;
  }
  // Never in the future: a reading taken after the offset was.
  return new Date(Math.min(now, offsetMs + Number(monotonicNs) / 1e6)).toISOString();
}
