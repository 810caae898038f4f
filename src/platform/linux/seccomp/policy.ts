/** What a filter answers for a system call. */
export type SeccompAction =
  | { readonly kind: 'allow' }
  | { readonly kind: 'errno'; readonly errno: number }
  /** The whole process is killed (SIGSYS): for calls that cannot be answered safely at all. */
  | { readonly kind: 'kill' };

export const ALLOW: SeccompAction = { kind: 'allow' };
export const EPERM = 1;
export const ENOSYS = 38;
export const DENY_EPERM: SeccompAction = { kind: 'errno', errno: EPERM };
export const DENY_ENOSYS: SeccompAction = { kind: 'errno', errno: ENOSYS };

/** One test on a system call argument. */
export interface ArgTest {
  readonly arg: 0 | 1 | 2 | 3 | 4 | 5;
  /** `any-bits`: `(arg & value) != 0`; `eq` / `ne`: compared with `value`. */
  readonly op: 'any-bits' | 'eq' | 'ne';
  readonly value: bigint;
  /**
   * 32: compare only the low half, for arguments the kernel reads as a 32-bit int (an ioctl
   * request, clone's flags): comparing 64 bits there would let junk in the high half slip past the
   * filter while the kernel ignores it. 64: compare both halves.
   */
  readonly width: 32 | 64;
}

/** What to answer for one system call, optionally only when its arguments match. */
export interface SyscallRule {
  readonly syscall: string;
  readonly action: SeccompAction;
  /** Every test must hold for the rule to apply. Absent: the rule always applies. */
  readonly when?: readonly ArgTest[];
  /** How reports name a conditional rule, e.g. `ioctl(TIOCSTI)`. */
  readonly label?: string;
}

/**
 * A complete filter: rules are tried in order for the system call at hand, the first that applies
 * answers, and calls no rule answers get the default action.
 */
export interface FilterPolicy {
  readonly defaultAction: SeccompAction;
  readonly rules: readonly SyscallRule[];
}

/** `SECCOMP_RET_*` value of an action. */
export function actionValue(action: SeccompAction): number {
  switch (action.kind) {
    case 'allow':
      return 0x7fff0000;
    case 'kill':
      return 0x80000000;
    case 'errno':
      return (0x00050000 | (action.errno & 0xffff)) >>> 0;
  }
}
