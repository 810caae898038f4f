import type { CliContext } from './context.js';
import { exitCodeForError } from './exit-codes.js';
import { reportError } from './output.js';

/**
 * Runs `action` for each container name, like docker's multi-name verbs: one failure is
 * reported and does not stop the others; the exit status is the first failure's (125 mostly).
 */
export async function forEachName(
  ctx: CliContext,
  names: readonly string[],
  action: (name: string) => Promise<void>,
): Promise<void> {
  for (const name of names) {
    try {
      await action(name);
    } catch (err) {
      reportError(ctx.io, err);
      if (ctx.exitCode === 0) ctx.exitCode = exitCodeForError(err);
    }
  }
}
