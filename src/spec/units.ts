/**
 * Human units for sizes, durations and CPU counts. Parsers return `undefined` on a malformed
 * value so the schema layer can attach the field name and the offending value to the error.
 */

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

const DURATION_UNITS: Record<string, number> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
};

// Anchored and bounded so a hostile string cannot make the regex engine work hard.
const NUMBER_WITH_UNIT = /^\s*(\d{1,20}(?:\.\d{1,20})?|\.\d{1,20})\s*([a-zµ]{0,3})\s*$/i;

/** Largest value we accept anywhere: integers beyond this lose precision in a double. */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Parses `256Mi`, `1G`, `512k`, `4096` (bytes). Returns whole bytes, or undefined if malformed. */
export function parseSize(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const m = NUMBER_WITH_UNIT.exec(input);
  if (!m) return undefined;
  const factor = SIZE_UNITS[(m[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor);
}

/** Parses `500ms`, `10s`, `1.5m`, `2h`. A bare number string is refused (the unit must be said). */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const m = NUMBER_WITH_UNIT.exec(input);
  if (!m || !m[2]) return undefined;
  const factor = DURATION_UNITS[m[2].toLowerCase()];
  if (factor === undefined) return undefined;
  return Number(m[1]) * factor;
}

/** Parses `0.5`, `2`, or Kubernetes-style millicores `500m`. */
export function parseCpus(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const m = NUMBER_WITH_UNIT.exec(input);
  if (!m) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  if (unit === '') return Number(m[1]);
  if (unit === 'm') return Number(m[1]) / 1000;
  return undefined;
}

/** Formats bytes the way people write limits: `256Mi`, `1.5Gi`, `1000` when no unit fits exactly. */
export function formatBytes(bytes: number): string {
  const units: [string, number][] = [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ];
  for (const [name, size] of units) {
    if (bytes >= size && (bytes % size === 0 || bytes / size >= 10)) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)}${name}`;
    }
  }
  for (const [name, size] of units) {
    if (bytes >= size) return `${(bytes / size).toFixed(1)}${name}`;
  }
  return `${bytes}B`;
}

/** Formats milliseconds: `500ms`, `10s`, `1.5s`, `2m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms * 1000) / 1000}ms`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(3))}s`;
}
