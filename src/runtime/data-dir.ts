import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Where containers and images live: `$CORRAL_DATA_DIR`, else `/var/lib/corral` for root, else
 * `$XDG_DATA_HOME/corral` (default `~/.local/share/corral`), as DESIGN.md §2 says.
 */
export function defaultDataDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  uid: number = process.getuid?.() ?? 0,
): string {
  if (env.CORRAL_DATA_DIR) return path.resolve(env.CORRAL_DATA_DIR);
  if (uid === 0) return '/var/lib/corral';
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : undefined;
  return path.join(xdg ?? path.join(env.HOME ?? homedir(), '.local', 'share'), 'corral');
}
