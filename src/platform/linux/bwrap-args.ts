import type { ResolvedSpec } from '../../spec/types.js';
import type { MountOp } from './mount-plan.js';

export interface BwrapOptions {
  /** fd numbers in the bwrap process, as the launcher will arrange them. */
  readonly infoFd: number;
  readonly blockFd: number;
  /** Kill the sandbox when corral exits (one-shot runs). Lifecycle containers outlive corral. */
  readonly dieWithParent: boolean;
  /** fd where bwrap writes JSON status documents, the command's exit code last. */
  readonly statusFd?: number;
  /** fd bwrap reads the seccomp program from, after --block-fd releases it. */
  readonly seccompFd?: number;
  /** fds holding /dev/null that bwrap reads as empty `--args` and closes before the command runs. */
  readonly closeFds?: readonly number[];
  /** bubblewrap >= 0.8: no user namespaces can be created inside the sandbox. */
  readonly disableUserns?: boolean;
}

/**
 * The bubblewrap command line for a sandbox. Pure: the same spec and mounts give the same argv,
 * which is what the unit tests check through the fake launcher.
 */
export function buildBwrapArgs(
  spec: ResolvedSpec,
  mounts: readonly MountOp[],
  options: BwrapOptions,
): string[] {
  // bwrap closes an --args fd once read; it is how inherited descriptors are kept from the command.
  const args: string[] = (options.closeFds ?? []).flatMap((fd) => ['--args', String(fd)]);
  args.push('--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try');
  if (options.disableUserns) args.push('--disable-userns');
  if (spec.network === 'none') args.push('--unshare-net');
  args.push('--hostname', spec.hostname, '--new-session', '--cap-drop', 'ALL');
  if (options.dieWithParent) args.push('--die-with-parent');
  for (const m of mounts) {
    switch (m.kind) {
      case 'root':
        args.push(m.writable ? '--bind' : '--ro-bind', m.source, '/');
        break;
      case 'dev':
        args.push('--dev', m.target);
        break;
      case 'proc':
        args.push('--proc', m.target);
        break;
      case 'tmpfs':
        args.push('--tmpfs', m.target);
        break;
      case 'bind':
        args.push(m.mode === 'rw' ? '--bind' : '--ro-bind', m.source, m.target);
        break;
    }
  }
  args.push('--chdir', spec.workdir);
  args.push('--info-fd', String(options.infoFd), '--block-fd', String(options.blockFd));
  if (options.statusFd !== undefined) args.push('--json-status-fd', String(options.statusFd));
  if (options.seccompFd !== undefined) args.push('--seccomp', String(options.seccompFd));
  // "--" so a command starting with "-" is never read as a bwrap option.
  args.push('--', ...spec.command);
  return args;
}
