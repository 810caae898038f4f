import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachName } from '../names-arg.js';

export function registerWait(program: Command, ctx: CliContext): void {
  program
    .command('wait')
    .summary("wait for containers to stop, then print each one's exit code")
    .argument('<names...>')
    .action(async (names: string[]) => {
      await forEachName(ctx, names, async (name) => {
        const o = await ctx.runtime().wait(name);
        ctx.io.stdout.write(`${o.exitCode ?? 'unknown'}\n`);
      });
    });
}
