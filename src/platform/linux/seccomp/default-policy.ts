import { ALLOW, DENY_ENOSYS, DENY_EPERM, ENOSYS, type FilterPolicy, type SyscallRule } from './policy.js';

const deny = (...names: string[]): SyscallRule[] => names.map((syscall) => ({ syscall, action: DENY_EPERM }));

/** Namespace flags of clone(2)/unshare(2) (linux/sched.h). */
export const CLONE_NAMESPACE_FLAGS =
  0x00020000n | // CLONE_NEWNS
  0x02000000n | // CLONE_NEWCGROUP
  0x04000000n | // CLONE_NEWUTS
  0x08000000n | // CLONE_NEWIPC
  0x10000000n | // CLONE_NEWUSER
  0x20000000n | // CLONE_NEWPID
  0x40000000n; // CLONE_NEWNET

/** clone() asking for a new namespace. */
export const CLONE_NAMESPACE_RULE: SyscallRule = {
  syscall: 'clone',
  label: 'clone(namespace flags)',
  action: DENY_EPERM,
  // Flags are the first argument on x86_64 and aarch64 alike; the kernel reads them as 32 bits.
  when: [{ arg: 0, op: 'any-bits', value: CLONE_NAMESPACE_FLAGS, width: 32 }],
};

/** Terminal ioctls (asm-generic/ioctls.h, shared by x86_64 and aarch64). */
export const TIOCSTI = 0x5412n;
export const TIOCLINUX = 0x541cn;
export const TIOCSETD = 0x5423n;

/** personality(2) flags that weaken the process's own memory protections (linux/personality.h). */
const MMAP_PAGE_ZERO = 0x0100000n;
const READ_IMPLIES_EXEC = 0x0400000n;

/**
 * corral's default deny list. The sandbox already has no capabilities and its own namespaces, so
 * most of these would fail anyway; the filter keeps the kernel code behind them out of reach, which
 * is where sandbox escapes come from (a bug in a rarely used call reachable without privileges).
 * Everything else is allowed: ordinary programs (shells, compilers, interpreters, git) must work.
 */
export const DEFAULT_RULES: readonly SyscallRule[] = [
  // Kernel code loading and replacing the running kernel.
  ...deny('init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load'),
  // The whole mount API, old and new: a mount inside the sandbox could uncover what bwrap hid.
  ...deny('mount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'open_tree_attr'),
  ...deny('fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr'),
  // Host-wide state no sandbox may change: swap, power, time, process accounting, quotas.
  ...deny('swapon', 'swapoff', 'reboot', 'acct', 'quotactl', 'quotactl_fd'),
  // Time setting (stime exists only on 32-bit x86, whose ABI the architecture check kills).
  // adjtimex/clock_adjtime with modes 0 only read, but telling reads from writes means reading
  // the struct behind a pointer, which seccomp cannot do: both are denied.
  ...deny('clock_settime', 'clock_adjtime', 'settimeofday', 'adjtimex'),
  // eBPF and perf: large, frequently exploited kernel surfaces; perf also leaks kernel addresses.
  ...deny('bpf', 'perf_event_open'),
  // Keyrings are not namespaced: keys could leak between sandboxes of the same uid.
  ...deny('add_key', 'request_key', 'keyctl'),
  // Reading and writing other processes: ptrace and the calls gated by the same access check.
  // kcmp reveals whether two processes share kernel objects; pidfd_getfd steals descriptors.
  ...deny('ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd'),
  // userfaultfd lets an exploit pause the kernel mid-copy and win races at will.
  ...deny('userfaultfd'),
  // io_uring runs operations inside the kernel that this filter never sees as system calls.
  ...deny('io_uring_setup', 'io_uring_enter', 'io_uring_register'),
  // New namespaces (a nested user namespace gives back every capability inside it), and joining
  // existing ones. bwrap's --disable-userns adds a second, independent layer for user namespaces.
  ...deny('unshare', 'setns'),
  CLONE_NAMESPACE_RULE,
  // clone3 passes its flags in a struct seccomp cannot read. ENOSYS (not EPERM) makes glibc and
  // musl fall back to clone(), whose flags the rule above checks.
  { syscall: 'clone3', action: DENY_ENOSYS },
  // File handles bypass path lookup and mount boundaries ("shocker" escape from containers).
  ...deny('open_by_handle_at', 'name_to_handle_at'),
  // Terminal injection: TIOCSTI pushes input into a terminal as if typed there; TIOCLINUX can
  // paste the console selection; TIOCSETD attaches line disciplines, a repeat source of kernel
  // bugs (n_hdlc CVE-2017-2636, n_gsm CVE-2023-6546). The request is 32 bits (see ArgTest.width).
  ...(
    [
      [TIOCSTI, 'TIOCSTI'],
      [TIOCLINUX, 'TIOCLINUX'],
      [TIOCSETD, 'TIOCSETD'],
    ] as const
  ).map(([request, name]): SyscallRule => ({
    syscall: 'ioctl',
    label: `ioctl(${name})`,
    action: DENY_EPERM,
    when: [{ arg: 1, op: 'eq', value: request, width: 32 }],
  })),
  // Privileged or obsolete calls with a history of bugs and no use in a sandbox: the kernel log
  // (leaks addresses), x86 port I/O, terminal hangup, a.out libraries, removed interfaces.
  ...deny('syslog', 'iopl', 'ioperm', 'vhangup', 'uselib', 'lookup_dcookie', 'nfsservctl', '_sysctl'),
  // personality flags that map page zero or make all memory executable help exploit kernel NULL
  // dereferences. 0xffffffff only queries the current persona and has every bit set: keep it.
  {
    syscall: 'personality',
    label: 'personality(MMAP_PAGE_ZERO|READ_IMPLIES_EXEC)',
    action: DENY_EPERM,
    when: [
      { arg: 0, op: 'any-bits', value: MMAP_PAGE_ZERO | READ_IMPLIES_EXEC, width: 32 },
      { arg: 0, op: 'ne', value: 0xffffffffn, width: 32 },
    ],
  },
];

export const DEFAULT_POLICY: FilterPolicy = { defaultAction: ALLOW, rules: DEFAULT_RULES };

/** Allows everything: still handed to bwrap with `--seccomp none` (see linux-backend's guard). */
export const ALLOW_ALL_POLICY: FilterPolicy = { defaultAction: ALLOW, rules: [] };

/** The system calls a policy answers with an error, for the capability report. */
export function describePolicy(policy: FilterPolicy): string[] {
  return policy.rules
    .filter((r) => r.action.kind !== 'allow')
    .map((r) => {
      const name = r.label ?? (r.when ? `${r.syscall}(some arguments)` : r.syscall);
      if (r.action.kind === 'kill') return `${name} (killed)`;
      return r.action.kind === 'errno' && r.action.errno === ENOSYS ? `${name} (ENOSYS)` : name;
    });
}
