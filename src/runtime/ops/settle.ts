import type { Loaded, RuntimeContext } from '../context.js';
import { writeState } from '../store.js';
import type { StateFile } from '../types.js';
import { observeExit, released } from '../view.js';

/**
 * Brings state.json up to date with what happened while no corral process was looking, and
 * releases what a finished run or an interrupted operation left. Call with the lock held.
 * Returns the settled state.
 */
export async function settle(ctx: RuntimeContext, c: Loaded): Promise<StateFile | undefined> {
  const s = c.state;
  if (!s) return s;
  if (s.status === 'running' && s.run) {
    const exit = observeExit(ctx, c, s.run);
    if (!exit) return s;
    // Usage is read (in observeExit) before the cgroup goes: it is the run's final accounting.
    const next: StateFile = { status: 'exited', port: s.port, run: s.run, exit };
    writeState(c.paths, next);
    await ctx.driver.releaseRun(s.run, c.paths, false);
    return next;
  }
  if (s.status === 'starting') {
    const run = s.run;
    // A start cut short after the command was let run: it runs with all its limits; adopt it.
    if (run && released(ctx, c, run)) {
      const next: StateFile = {
        status: 'running',
        port: s.port,
        run: { ...run, startedAt: run.startedAt ?? new Date().toISOString() },
      };
      writeState(c.paths, next);
      return settle(ctx, { ...c, state: next });
    }
    // Cut short before: whatever it launched is still blocked before exec. Kill it, go back.
    if (run) await ctx.driver.releaseRun(run, c.paths, true);
    const back: StateFile =
      s.previous === 'exited' && s.exit
        ? { status: 'exited', port: s.port, exit: s.exit }
        : { status: 'created', port: s.port, ...(s.portHolder && { portHolder: s.portHolder }) };
    writeState(c.paths, back);
    return back;
  }
  return s;
}
