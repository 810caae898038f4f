import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError, StateError } from '../errors.js';
import type { RuntimeContext } from './context.js';
import { settle } from './ops/settle.js';
import type { ContainerOutcome } from './types.js';
import { deriveState } from './view.js';

/**
 * Resolves with the outcome once the container's command has ended (waiting through `created`
 * for it to be started, like docker wait). Rejects if the container is removed meanwhile.
 */
export async function waitFor(
  ctx: RuntimeContext,
  name: string,
  signal?: AbortSignal,
): Promise<ContainerOutcome> {
  for (let i = 0; ; i++) {
    signal?.throwIfAborted();
    const c = ctx.load(name);
    const state = deriveState(ctx, c);
    if (state.status === 'broken')
      throw new StateError(`cannot wait for ${name}: ${state.problem ?? 'it is broken'}`, { name });
    if (state.status === 'exited' && state.outcome) {
      await persist(ctx, name);
      return state.outcome;
    }
    await sleep(Math.min(5 + i * 5, 100));
  }
}

/** Records the exit and frees the run's cgroup, unless another corral is busy with it right now. */
async function persist(ctx: RuntimeContext, name: string): Promise<void> {
  let lock;
  try {
    lock = await ctx.lock(name, 'wait', 0);
  } catch (err) {
    if (err instanceof CorralError && err.code === 'E_LOCKED') return;
    throw err;
  }
  try {
    await settle(ctx, ctx.load(name));
  } catch (err) {
    if (!(err instanceof CorralError && err.code === 'E_NO_SUCH_CONTAINER')) throw err;
  } finally {
    lock.release();
  }
}
