import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachName } from '../names-arg.js';

export function registerStart(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .summary('start one or more created or exited containers')
    .argument('<names...>')
    .action(async (names: string[]) => {
      await forEachName(ctx, names, async (name) => {
        await ctx.runtime().start(name);
        ctx.io.stdout.write(`${name}\n`);
      });
    });
}
