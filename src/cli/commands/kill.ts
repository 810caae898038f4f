import type { Command } from 'commander';
import { parseSignal } from '../../runtime/signals.js';
import type { CliContext } from '../context.js';
import { forEachName } from '../names-arg.js';

export function registerKill(program: Command, ctx: CliContext): void {
  program
    .command('kill')
    .summary('send a signal (default SIGKILL) to every process of running containers')
    .option('-s, --signal <signal>', 'signal name or number, e.g. TERM, SIGHUP, 9', 'SIGKILL')
    .argument('<names...>')
    .action(async (names: string[], opts: { signal: string }) => {
      const signal = parseSignal(opts.signal);
      await forEachName(ctx, names, async (name) => {
        await ctx.runtime().kill(name, signal);
        ctx.io.stdout.write(`${name}\n`);
      });
    });
}
