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
  const args: string[] = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
  ];
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
  // "--" so a command starting with "-" is never read as a bwrap option.
  args.push('--', ...spec.command);
  return args;
}
