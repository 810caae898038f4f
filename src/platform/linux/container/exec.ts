import { StateError, UnsupportedError } from '../../../errors.js';
import type { LaunchedProcess, ProcessLauncher } from '../../../process/types.js';
import type { DriverExecOptions } from '../../../runtime/driver.js';
import type { RunRecord } from '../../../runtime/types.js';
import type { ResolvedSpec } from '../../../spec/types.js';
import type { Cgroup } from '../cgroup/types.js';
import { findHostTool } from '../host-tools.js';
import { sandboxIdentity } from '../identity.js';
import { childrenOf } from '../proc-tree.js';
import { wrapperArgs } from '../rlimits.js';
import { buildExecArgv, seccompStage } from './exec-args.js';
import { isAlive, seccompMode } from './proc-identity.js';

export interface ExecDeps {
  readonly launcher: ProcessLauncher;
  readonly cgroup: Cgroup | undefined;
  readonly hostUid: number | undefined;
  readonly hostGid: number | undefined;
}

/**
 * Starts a command inside a running container: in its cgroup from its first instruction, with
 * its rlimits and no-new-privileges, then nsenter into all its namespaces as its uid. When a
 * seccomp program is given, a nested bubblewrap in the container's own view loads it (and drops
 * the capability bounding set) just before the command; a container already under a filter is
 * refused without one, so exec never runs with fewer restrictions than the container.
 */
export function execInContainer(
  deps: ExecDeps,
  run: RunRecord,
  spec: ResolvedSpec,
  command: readonly string[],
  opts: DriverExecOptions,
): LaunchedProcess {
  const init = run.init && isAlive(run.init) ? run.init : undefined;
  if (!init) throw new StateError('cannot exec: the container is not running');
  const main = childrenOf(init.pid)[0];
  const filtered = [init.pid, main].some((pid) => pid !== undefined && seccompMode(pid) === 2);
  if (filtered && !opts.seccomp) {
    throw new UnsupportedError(
      'cannot exec: the container runs under a seccomp filter and no program was given to apply the same to the new command',
      'pass the container’s seccomp program to exec, or run the command as part of the container',
    );
  }
  const sh = findHostTool('sh');
  const nsenter = findHostTool('nsenter');
  if (!sh || !nsenter)
    throw new UnsupportedError(
      'exec needs nsenter(1) and sh, which are not installed',
      'apt-get install util-linux',
    );
  const who = sandboxIdentity(spec, deps.hostUid, deps.hostGid);
  if (!who.switched) {
    // bubblewrap nests the sandbox's user namespace inside the one that owns its pid, mount and
    // other namespaces; only root may join those after entering the inner one.
    throw new UnsupportedError(
      'exec into a container needs corral to run as root: an unprivileged process cannot join the namespaces bubblewrap created for it',
      'run corral as root (containers then run as the unprivileged uid 2000000000)',
    );
  }
  let final = command;
  if (opts.seccomp) {
    // The nested bubblewrap is the host's, seen at the same path through the read-only host root.
    const bwrap = findHostTool('bwrap');
    if (!opts.hostRoot || !bwrap)
      throw new UnsupportedError(
        'cannot apply a seccomp filter to exec in a container on its own root filesystem (no bubblewrap inside it)',
        'run the command as part of the container',
      );
    final = [...seccompStage(bwrap, opts.workdir, 3), ...command];
  }
  const argv = buildExecArgv({
    tools: { sh, nsenter, prlimit: findHostTool('prlimit'), setpriv: findHostTool('setpriv') },
    cgroupProcs: deps.cgroup ? deps.cgroup.procsFiles() : [],
    rlimits: [
      ...wrapperArgs(spec.limits),
      ...(spec.limits.nofile === undefined ? [] : [`--nofile=${spec.limits.nofile}:${spec.limits.nofile}`]),
    ],
    initPid: init.pid,
    uid: who.uid,
    gid: who.gid,
    workdir: opts.workdir,
    command: final,
  });
  const p = deps.launcher.launch({
    ...argv,
    env: opts.env,
    cwd: '/',
    stdin: opts.stdin,
    stdout: opts.stdout,
    stderr: opts.stderr,
    ...(opts.seccomp && { extraPipes: 1 }),
  });
  const program = p.extra[0];
  if (opts.seccomp && program) {
    // bubblewrap reads the whole program up to EOF from fd 3, passed down the chain unchanged.
    program.on('error', () => undefined);
    program.end(Buffer.from(opts.seccomp));
  }
  return p;
}
