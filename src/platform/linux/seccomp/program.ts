import type { ResolvedSeccomp } from '../../../spec/seccomp.js';
import { encodeProgram, ret, SECCOMP_RET_ALLOW } from './bpf.js';
import { compileToBytes } from './compile.js';
import { CLONE_NAMESPACE_RULE, DEFAULT_RULES, describePolicy } from './default-policy.js';
import { ALLOW, DENY_ENOSYS, DENY_EPERM, type FilterPolicy, type SyscallRule } from './policy.js';

/**
 * bubblewrap installs the filter in its pid-1 init as well as before exec'ing the command, so an
 * allow list must let through what that init does afterwards (exec, wait for children, report
 * the exit status on an eventfd, exit).
 */
export const SANDBOX_INIT_SYSCALLS = [
  'execve',
  'wait4',
  'write',
  'exit',
  'exit_group',
  'rt_sigreturn',
] as const;

/**
 * Whether the sandbox may create namespaces. One switch for every way to do it: a policy that
 * allows `unshare` by name (or `none`) allows clone's namespace flags and nested user namespaces.
 */
export function allowsNamespaces(s: ResolvedSeccomp): boolean {
  return s.mode === 'none' || s.allow.includes('unshare');
}

/** The filter a resolved `seccomp` choice stands for; undefined for `none`. */
export function policyFor(s: ResolvedSeccomp): FilterPolicy | undefined {
  if (s.mode === 'none') return undefined;
  const namespaces = allowsNamespaces(s);
  if (s.default === 'deny') {
    const allowed = new Set<string>([...s.allow, ...SANDBOX_INIT_SYSCALLS]);
    const rules: SyscallRule[] = [];
    if (allowed.has('clone') && !namespaces) rules.push(CLONE_NAMESPACE_RULE);
    rules.push(...[...allowed].map((syscall) => ({ syscall, action: ALLOW })));
    // As in the default list: ENOSYS lets libc fall back from clone3 to clone.
    if (!allowed.has('clone3')) rules.push({ syscall: 'clone3', action: DENY_ENOSYS });
    return { defaultAction: DENY_EPERM, rules };
  }
  const base =
    s.extends === 'default'
      ? DEFAULT_RULES.filter(
          (r) => !s.allow.includes(r.syscall) && !(namespaces && r === CLONE_NAMESPACE_RULE),
        )
      : [];
  // The user's denials come first so they win over the base list's conditional rules.
  return {
    defaultAction: ALLOW,
    rules: [...s.deny.map((syscall) => ({ syscall, action: DENY_EPERM })), ...base],
  };
}

/**
 * With `none` corral still hands bwrap a program, one that allows everything: bwrap reads it only
 * after corral releases the sandbox, and an empty read (corral died before the release) makes
 * bwrap fail instead of running the command outside its cgroup and rlimits. One `ret ALLOW`
 * depends on no architecture and costs nothing per call (the kernel caches constant results).
 */
export const ALLOW_ALL_PROGRAM = encodeProgram([ret(SECCOMP_RET_ALLOW)]);

const cache = new Map<string, Buffer>();

/** The bytes for bubblewrap's `--seccomp FD`, compiled once per distinct policy. */
export function seccompProgram(s: ResolvedSeccomp): Buffer {
  const policy = policyFor(s);
  if (!policy) return ALLOW_ALL_PROGRAM;
  const key = JSON.stringify([s.default, s.extends, s.deny, s.allow]);
  let bytes = cache.get(key);
  if (!bytes) {
    bytes = compileToBytes(policy);
    if (cache.size > 64) cache.clear();
    cache.set(key, bytes);
  }
  return bytes;
}

/** One line for people: what the filter does. */
export function describeSeccomp(s: ResolvedSeccomp): string {
  const policy = policyFor(s);
  if (!policy) return 'none: no system call is filtered';
  const where = s.source ? ` from ${s.source}` : '';
  if (s.default === 'deny')
    return `allow list${where}: only ${s.allow.length} named system calls (plus ${SANDBOX_INIT_SYSCALLS.join(', ')}) may run; the rest get EPERM`;
  return `deny list${where}, answered with EPERM: ${describePolicy(policy).join(', ')}`;
}
