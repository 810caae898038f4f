/** Host tools the exec chain is built from (absolute paths). */
export interface ExecTools {
  readonly sh: string;
  readonly nsenter: string;
  readonly prlimit: string | undefined;
  readonly setpriv: string | undefined;
}

export interface ExecArgvInput {
  readonly tools: ExecTools;
  /** cgroup.procs files of the container's cgroup (one per v1 hierarchy). */
  readonly cgroupProcs: readonly string[];
  /** prlimit options (exec mode, no --pid): the container's rlimits. */
  readonly rlimits: readonly string[];
  readonly initPid: number;
  /** uid/gid inside the container's user namespace; undefined keeps the caller's (not root). */
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly workdir: string;
  readonly command: readonly string[];
}

// Runs first, as root on the host: joins the container's cgroup before anything else runs, so
// the exec'd command and all it starts are counted and limited with the container.
const JOIN_CGROUP =
  'n=$1; shift; while [ "$n" -gt 0 ]; do ' +
  'echo $$ > "$1" || { echo "corral: cannot join the container cgroup ($1)" >&2; exit 125; }; ' +
  'shift; n=$((n-1)); done; exec "$@"';

/**
 * The command line that runs `command` inside a running container: join its cgroup, take its
 * rlimits, forbid privilege gain on exec, then nsenter its user, mount, pid, net, ipc, uts and
 * cgroup namespaces, its root, and its uid, in the workdir. Pure, for the unit tests.
 */
export function buildExecArgv(input: ExecArgvInput): { file: string; args: string[] } {
  const { tools } = input;
  const chain: string[] = [];
  if (tools.prlimit && input.rlimits.length > 0) chain.push(tools.prlimit, ...input.rlimits, '--');
  if (tools.setpriv) chain.push(tools.setpriv, '--no-new-privs', '--');
  chain.push(tools.nsenter, '--target', String(input.initPid));
  chain.push('--user', '--mount', '--pid', '--net', '--ipc', '--uts', '--cgroup', '--root');
  if (input.uid !== undefined && input.gid !== undefined)
    chain.push('--setuid', String(input.uid), '--setgid', String(input.gid));
  else chain.push('--preserve-credentials');
  chain.push(`--wdns=${input.workdir}`, '--', ...input.command);
  return {
    file: tools.sh,
    args: [
      '-c',
      JOIN_CGROUP,
      'corral-exec',
      String(input.cgroupProcs.length),
      ...input.cgroupProcs,
      ...chain,
    ],
  };
}

/**
 * A nested bubblewrap run inside the container's namespaces: a user namespace of its own (the
 * only way for an unprivileged process to load a filter and drop its bounding set), the
 * container's very mounts bound over themselves, and the seccomp program from `fd`.
 */
export function seccompStage(bwrap: string, workdir: string, fd: number): string[] {
  return [
    bwrap,
    '--unshare-user',
    '--bind',
    '/',
    '/',
    '--dev-bind',
    '/dev',
    '/dev',
    '--bind',
    '/proc',
    '/proc',
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--chdir',
    workdir,
    '--seccomp',
    String(fd),
    '--',
  ];
}
