import { constants } from 'node:os';

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, n]) => [n, name] as [number, string]),
);

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
