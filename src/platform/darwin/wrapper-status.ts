import type { Readable } from 'node:stream';
import { LaunchError } from '../../errors.js';
import type { LaunchedProcess } from '../../process/types.js';
import { parseWrapperStatus, type WrapperStatus } from './rlimit-wrapper.js';

const STATUS_TIMEOUT_MS = 10_000;

/**
 * Waits for the rlimit wrapper's status line: proof the limits are set before the command runs.
 * Rejects if the wrapper exits or stays silent instead.
 */
export async function readWrapperStatus(leader: LaunchedProcess, fd: Readable): Promise<WrapperStatus> {
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  const status = new Promise<WrapperStatus>((resolve, reject) => {
    fd.setEncoding('utf8');
    fd.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      const s = parseWrapperStatus(text);
      if (s) resolve(s);
      else reject(new LaunchError(`the rlimit wrapper said something unexpected: ${JSON.stringify(text)}`));
    });
    fd.on('error', reject);
    timer = setTimeout(
      () => reject(new LaunchError(`the rlimit wrapper did not report within ${STATUS_TIMEOUT_MS} ms`)),
      STATUS_TIMEOUT_MS,
    );
  });
  const exited = leader.exit.then((e) => {
    throw new LaunchError(
      `the sandbox wrapper exited before the command started (exit ${e.code ?? e.signal})`,
      {
        exit: e,
      },
    );
  });
  try {
    return await Promise.race([status, exited]);
  } finally {
    clearTimeout(timer);
    exited.catch(() => undefined);
    status.catch(() => undefined);
  }
}
