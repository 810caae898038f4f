import path from 'node:path';
import { CommandNotExecutableError, CommandNotFoundError, ConfigError } from '../../errors.js';
import { permits, type HostIdentity } from './access.js';
import type { SandboxView } from './sandbox-view.js';

/**
 * Finds the program the sandbox will exec, the way execvp would inside it, so that a missing
 * or non-executable command is reported (127 / 126) before anything is launched.
 * Returns the sandbox path of the program.
 */
export function resolveCommand(
  view: SandboxView,
  argv0: string,
  envPath: string,
  workdir: string,
  who: HostIdentity,
): string {
  if (argv0.includes('/')) {
    const p = path.posix.resolve(workdir, argv0);
    const hit = view.lookup(p);
    if (!hit.found) throw new CommandNotFoundError(argv0, { lookedAt: p });
    checkExecutable(hit, argv0, who);
    return p;
  }
  let denied: { path: string; why: string } | undefined;
  for (const dir of envPath.split(':')) {
    // execvp treats an empty PATH entry as the current directory.
    const candidate = path.posix.resolve(workdir, dir === '' ? '.' : dir, argv0);
    const hit = view.lookup(candidate);
    if (!hit.found) continue;
    try {
      checkExecutable(hit, argv0, who);
      return candidate;
    } catch (err) {
      // Like execvp: remember EACCES and keep searching; report it only if nothing else matches.
      denied ??= { path: candidate, why: (err as Error).message };
    }
  }
  if (denied) throw new CommandNotExecutableError(argv0, `found ${denied.path}, but it cannot be executed`);
  throw new CommandNotFoundError(argv0, { path: envPath });
}

function checkExecutable(hit: ReturnType<SandboxView['lookup']>, argv0: string, who: HostIdentity): void {
  if (!hit.found || hit.hostPath === undefined) {
    throw new CommandNotExecutableError(argv0, `${hit.sandboxPath} is not a regular file`);
  }
  if (!hit.stats.isFile())
    throw new CommandNotExecutableError(argv0, `${hit.sandboxPath} is not a regular file`);
  if (!permits(hit.stats, who, 'x')) {
    throw new CommandNotExecutableError(
      argv0,
      `${hit.sandboxPath} has no execute permission for uid ${who.uid}`,
    );
  }
}

/** The working directory must exist in the sandbox, or bwrap would fail after setup. */
export function checkWorkdir(view: SandboxView, workdir: string): void {
  const hit = view.lookup(workdir);
  const isDir = hit.found && (hit.hostPath === undefined || hit.stats.isDirectory());
  if (!isDir) {
    throw new ConfigError(
      'workdir',
      `workdir: no such directory in the sandbox: ${JSON.stringify(workdir)}`,
      {
        value: workdir,
      },
    );
  }
}
