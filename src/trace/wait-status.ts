import { constants } from 'node:os';

// Some numbers have two names (SIGABRT/SIGIOT, SIGCHLD/SIGCLD): the first listed is the usual one.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.signals))
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);

export interface DecodedStatus {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly coreDumped: boolean;
}

/**
 * Decodes a wait status as the kernel stores it (`exit_code` of a task, and what the proc
 * connector reports): the low 7 bits are the killing signal, bit 7 says a core was dumped, and
 * bits 8-15 are the exit code when the signal bits are zero.
 */
export function decodeWaitStatus(status: number): DecodedStatus {
  const sig = status & 0x7f;
  if (sig === 0) return { exitCode: (status >> 8) & 0xff, signal: null, coreDumped: false };
  return {
    exitCode: null,
    signal: SIGNAL_NAMES.get(sig) ?? `SIG${sig}`,
    coreDumped: (status & 0x80) !== 0,
  };
}
