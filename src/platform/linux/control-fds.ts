/** bubblewrap's control descriptors, as fd numbers in its process. */
export interface ControlFds {
  /** How many of them are pipes from corral (the first ones, from fd 3). */
  readonly pipes: number;
  /** The first fd above them all. */
  readonly count: number;
  readonly info: number;
  readonly block: number;
  readonly seccomp: number;
  readonly status: number | undefined;
}

/**
 * Where bubblewrap finds its control descriptors. Pipes from corral come first (info, then block
 * and seccomp unless the caller holds those as files), then the caller's fds in a fixed order:
 * block, status, seccomp. `held` says which the caller passes as fds of its own.
 */
export function controlFds(held: { block: boolean; status: boolean; seccomp: boolean }): ControlFds {
  const slots: string[] = ['info'];
  if (!held.block) slots.push('block');
  if (!held.seccomp) slots.push('seccomp');
  const pipes = slots.length;
  if (held.block) slots.push('block');
  if (held.status) slots.push('status');
  if (held.seccomp) slots.push('seccomp');
  const at = (slot: string) => (slots.includes(slot) ? 3 + slots.indexOf(slot) : undefined);
  return {
    pipes,
    count: 3 + slots.length,
    info: 3,
    block: at('block') as number,
    seccomp: at('seccomp') as number,
    status: at('status'),
  };
}
