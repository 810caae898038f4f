import { StateError, UnsupportedError } from '../../../errors.js';
import type { LaunchedProcess, ProcessLauncher } from '../../../process/types.js';
import type { DriverExecOptions } from '../../../runtime/driver.js';
import type { RunRecord } from '../../../runtime/types.js';
import type { ResolvedSpec } from '../../../spec/types.js';
import type { BwrapFeatures } from '../bwrap-features.js';
import type { Cgroup } from '../cgroup/types.js';
import { findHostTool } from '../host-tools.js';
import { sandboxIdentity } from '../identity.js';
import { openDescriptors } from '../inherited-fds.js';
import { wrapperArgs } from '../rlimits.js';
import { wantsDisableUserns } from '../seccomp/sandbox-filter.js';
import { buildExecArgv, nestedStage } from './exec-args.js';
import { containerProgram, execStatusShell, nestedBwrap, noNestedBwrap } from './exec-filter.js';
import { isAlive } from './proc-identity.js';

export interface ExecDeps {
  readonly launcher: ProcessLauncher;
  readonly cgroup: Cgroup | undefined;
  readonly hostUid: number | undefined;
  readonly hostGid: number | undefined;
  /** The host's bubblewrap, and what it supports. */
  readonly bwrapPath: string | undefined;
  readonly bwrapFeatures: (bwrapPath: string) => Promise<BwrapFeatures>;
}

/**
 * Starts a command inside a running container: in its cgroup from its first instruction, with
 * its rlimits and no-new-privileges, then nsenter into its namespaces as its uid. A nested
 * bubblewrap in the container's own view then closes what corral inherited, drops the capability
 * bounding set and loads the container's system call filter (and any program the caller adds,
 * stacked on it) just before the command. Where a filter is due and no bubblewrap can load it,
 * exec is refused: it never runs with fewer restrictions than the container. Without a filter
 * and without a bubblewrap (`--seccomp none` on a bare root filesystem), the command joins the
 * container's user namespace directly; inherited descriptors then reach it as /dev/null.
 */
export async function execInContainer(
  deps: ExecDeps,
  run: RunRecord,
  spec: ResolvedSpec,
  command: readonly string[],
  opts: DriverExecOptions,
): Promise<LaunchedProcess> {
  const init = run.init && isAlive(run.init) ? run.init : undefined;
  if (!init) throw new StateError('cannot exec: the container is not running');
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
  // The container's own program first (`none` has nothing to add), then the caller's.
  const programs: Uint8Array[] = [];
  if (spec.seccomp.mode !== 'none') programs.push(containerProgram(opts.paths.seccomp, spec.seccomp));
  if (opts.seccomp) programs.push(opts.seccomp);
  const nested = nestedBwrap(opts.rootfs, deps.bwrapPath);
  if (programs.length > 0 && !nested) throw noNestedBwrap(opts.rootfs, spec.seccomp.mode);
  // Whatever corral inherited is /dev/null in the chain, and closed by the nested bubblewrap.
  const inherited = openDescriptors().filter((fd) => fd >= 3 + programs.length);
  let final = command;
  if (nested) {
    // Only the host's bubblewrap is known to have --disable-userns; under an image's own, the
    // filter's rules on unshare, clone and setns still forbid namespaces.
    const features = nested.host ? await deps.bwrapFeatures(nested.path) : undefined;
    final = [
      ...nestedStage({
        bwrap: nested.path,
        workdir: opts.workdir,
        programFds: programs.map((_, i) => 3 + i),
        closeFds: inherited,
        disableUserns: (features?.disableUserns ?? false) && wantsDisableUserns(spec.seccomp),
      }),
      ...execStatusShell(opts.rootfs),
      ...command,
    ];
  }
  const argv = buildExecArgv({
    tools: { sh, nsenter, prlimit: findHostTool('prlimit'), setpriv: findHostTool('setpriv') },
    cgroupProcs: deps.cgroup ? deps.cgroup.procsFiles() : [],
    rlimits: [
      ...wrapperArgs(spec.limits),
      ...(spec.limits.nofile === undefined ? [] : [`--nofile=${spec.limits.nofile}:${spec.limits.nofile}`]),
    ],
    initPid: init.pid,
    // The container's user namespace may not make another one (--disable-userns), so a nested
    // bubblewrap makes its own from the host's, for the same uid.
    joinUserns: !nested,
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
    extraPipes: programs.length,
    nullFds: inherited,
  });
  programs.forEach((program, i) => {
    // bubblewrap reads each program up to EOF, from fds passed down the chain unchanged.
    const pipe = p.extra[i];
    pipe?.on('error', () => undefined);
    pipe?.end(Buffer.from(program));
  });
  return p;
}
