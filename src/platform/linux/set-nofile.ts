import { LaunchError } from '../../errors.js';
import type { ProcessLauncher } from '../../process/types.js';
import { DEFAULT_PATH } from '../../spec/resolve.js';
import type { SandboxIdentity } from './identity.js';
import { nofileArgs } from './rlimits.js';

/**
 * RLIMIT_NOFILE cannot wrap bubblewrap (it needs descriptors of its own to build the sandbox), so
 * it is set on the held init.
 */
export async function setNofile(
  launcher: ProcessLauncher,
  prlimitPath: string,
  pid: number,
  nofile: number,
  who: SandboxIdentity,
): Promise<void> {
  // prlimit runs as the sandbox uid: changing another uid's limits needs CAP_SYS_RESOURCE,
  // which root lacks in some containers, while lowering a same-uid process's never does.
  const p = launcher.launch({
    file: prlimitPath,
    cwd: '/',
    ...(who.switched && { uid: who.uid, gid: who.gid }),
    args: nofileArgs(pid, nofile),
    env: { PATH: DEFAULT_PATH, LANG: 'C' },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  });
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const e = await p.exit;
  if (e.code !== 0)
    throw new LaunchError(`prlimit failed to set the sandbox's rlimits: ${err.trim() || `exit ${e.code}`}`);
}
