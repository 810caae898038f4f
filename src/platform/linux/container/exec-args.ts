import { EXEC_SHIM_NAME } from '../exec-shim.js';

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
  /**
   * Join the container's user namespace. False when a nested bubblewrap gives the command a user
   * namespace of its own (the container's may not create one: --disable-userns).
   */
  readonly joinUserns: boolean;
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
  if (input.joinUserns) chain.push('--user');
  chain.push('--mount', '--pid', '--net', '--ipc', '--uts', '--cgroup', '--root');
  if (input.uid !== undefined && input.gid !== undefined)
    chain.push('--setuid', String(input.uid), '--setgid', String(input.gid));
  else chain.push('--preserve-credentials');
  chain.push(`--wdns=${input.workdir}`, '--', ...input.command);
  return {
    file: tools.sh,
    args: [
      '-c',
      JOIN_CGROUP,
      EXEC_SHIM_NAME,
      String(input.cgroupProcs.length),
      ...input.cgroupProcs,
      ...chain,
    ],
  };
}

export interface NestedStageInput {
  /** bubblewrap as the container sees it. */
  readonly bwrap: string;
  readonly workdir: string;
  /** fds holding the programs to load, the container's own first. */
  readonly programFds: readonly number[];
  /** Inherited fds (as /dev/null) bubblewrap reads as empty `--args` and closes. */
  readonly closeFds: readonly number[];
  /** Forbid user namespaces to the command (bubblewrap >= 0.8). */
  readonly disableUserns: boolean;
}

/**
 * A nested bubblewrap run inside the container's mount, pid, net, ipc, uts and cgroup namespaces:
 * a user namespace of its own, made from the host's (the only way for an unprivileged process to
 * load a filter and drop its bounding set, and the container's own may not make one), the
 * container's very mounts bound over themselves, and each seccomp program stacked in turn.
 */
export function nestedStage(input: NestedStageInput): string[] {
  return [
    input.bwrap,
    ...input.closeFds.flatMap((fd) => ['--args', String(fd)]),
    '--unshare-user',
    ...(input.disableUserns ? ['--disable-userns'] : []),
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
    input.workdir,
    ...input.programFds.flatMap((fd) => ['--add-seccomp-fd', String(fd)]),
    '--',
  ];
}
