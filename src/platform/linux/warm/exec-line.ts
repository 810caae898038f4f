import type { LaunchRequest } from '../../../process/types.js';
import { shellCommand } from './shell-quote.js';

/**
 * The one line a parked launcher reads and evaluates: export the request's environment, run the
 * prelude if any, then exec its program with the control descriptor taken away (`closeControl`: made /dev/null when
 * bubblewrap itself will read and close that fd number, closed outright otherwise).
 */
export function execLine(request: LaunchRequest, controlFd: number, prelude?: string): string {
  const exports = Object.entries(request.env).map(([k, v]) => `export ${k}=${shellCommand([v])};`);
  const args = request.args;
  const bwrapClosesIt = args.some((a, i) => a === '--args' && args[i + 1] === String(controlFd));
  const closeControl = bwrapClosesIt ? `${controlFd}</dev/null` : `${controlFd}<&-`;
  // The prelude (ulimit commands) is chained with &&: if it fails, nothing is exec'd at all.
  const run = `exec ${shellCommand([request.file, ...args])} ${closeControl}`;
  return `${exports.join(' ')} ${prelude ? `${prelude} && ${run}` : run}\n`;
}
