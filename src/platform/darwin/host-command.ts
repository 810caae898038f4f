import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { CommandNotExecutableError, CommandNotFoundError } from '../../errors.js';

/**
 * Finds the program on the host, the way execvp would, so a missing or non-executable command is
 * reported (127 / 126) before anything starts, and sandbox-exec is handed an absolute path (a
 * command can then never be mistaken for one of its options).
 */
export function resolveHostCommand(argv0: string, envPath: string, cwd: string): string {
  const candidates = argv0.includes('/')
    ? [path.resolve(cwd, argv0)]
    : envPath.split(':').map((dir) => path.resolve(cwd, dir === '' ? '.' : dir, argv0));
  let denied: string | undefined;
  for (const c of candidates) {
    let st;
    try {
      st = statSync(c);
    } catch {
      continue;
    }
    try {
      if (st.isDirectory()) throw new Error('is a directory');
      accessSync(c, constants.X_OK);
      return c;
    } catch (err) {
      denied ??= `found ${c}, but it cannot be executed (${(err as Error).message.split(',')[0]})`;
    }
  }
  if (denied) throw new CommandNotExecutableError(argv0, denied);
  throw new CommandNotFoundError(
    argv0,
    argv0.includes('/') ? { lookedAt: candidates[0] } : { path: envPath },
  );
}
