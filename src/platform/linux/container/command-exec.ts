import { existsSync, readlinkSync } from 'node:fs';
import { childrenOf } from '../proc-tree.js';

/**
 * Resolves once the container's command has been exec'd: the init's child no longer runs
 * bubblewrap's own program. Until then a kill would leave no exit code: bubblewrap reports one
 * only for a command that got as far as exec, and the run would end as `unknown`. Gives up after
 * `timeoutMs` (or when /proc will not say, as for another user's sandbox) without failing.
 */
export async function untilCommandExecs(initPid: number, bwrapPid: number, timeoutMs = 2000): Promise<void> {
  const bwrap = exe(bwrapPid);
  if (bwrap === undefined) return;
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const child = childrenOf(initPid)[0];
    if (child === undefined) {
      if (!existsSync(`/proc/${initPid}`)) return; // the sandbox is over already
    } else if (exe(child) !== bwrap) {
      return;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

function exe(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
