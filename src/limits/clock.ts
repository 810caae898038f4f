import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from './types.js';

/** The real clock: performance.now(), and timers that keep the process alive only when told. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal, hold = false) => sleep(Math.max(0, ms), undefined, { signal, ref: hold }),
};
