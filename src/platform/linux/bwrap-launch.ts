import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { LaunchError } from '../../errors.js';
import type { LaunchedProcess } from '../../process/types.js';

/** How long bubblewrap may take to create the namespaces before we give up on it. */
const INFO_TIMEOUT_MS = 10_000;

/**
 * Reads the `{"child-pid": N}` document bubblewrap writes to --info-fd once it has cloned the
 * sandbox's init. Rejects if bwrap exits first (its own error is on its stderr).
 */
export async function readChildPid(bwrap: LaunchedProcess, info: Readable): Promise<number> {
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  const pid = new Promise<number>((resolve, reject) => {
    info.setEncoding('utf8');
    info.on('data', (chunk: string) => {
      text += chunk;
      const m = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    info.on('error', reject);
    timer = setTimeout(
      () => reject(new LaunchError(`bubblewrap did not start the sandbox within ${INFO_TIMEOUT_MS} ms`)),
      INFO_TIMEOUT_MS,
    );
  });
  const exited = bwrap.exit.then((e) => {
    throw new LaunchError(
      `bubblewrap failed before the sandbox started (exit ${e.code ?? e.signal}); its message is above`,
      { exit: e },
    );
  });
  try {
    return await Promise.race([pid, exited]);
  } finally {
    clearTimeout(timer);
    exited.catch(() => undefined);
  }
}

/** Lets the blocked sandbox init go on to exec the command. */
export async function release(block: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  // A sandbox killed before bwrap read the byte resets the socket: its exit is reported elsewhere.
  block.on('error', () => undefined);
  if (!block.write('x')) await once(block as unknown as Readable, 'drain');
  block.end();
}
