import { constants } from 'node:os';
import { ConfigError } from '../errors.js';

const BY_NUMBER = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]),
);

/**
 * Accepts `SIGTERM`, `TERM`, `term` or `15`, like docker kill, and returns the canonical name.
 * Anything this host does not know is refused rather than guessed.
 */
export function parseSignal(input: string | number): NodeJS.Signals {
  const raw = String(input).trim();
  if (/^\d{1,3}$/.test(raw)) {
    const name = BY_NUMBER.get(Number(raw));
    if (name) return name;
  } else {
    const upper = raw.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (name in constants.signals) return name as NodeJS.Signals;
  }
  throw new ConfigError(
    'signal',
    `unknown signal: ${JSON.stringify(raw.slice(0, 40))} (use e.g. SIGTERM, KILL or 9)`,
    {
      value: input,
    },
  );
}
