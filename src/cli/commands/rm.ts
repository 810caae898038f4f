import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachName } from '../names-arg.js';

export function registerRm(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .summary('remove containers and everything they hold (processes, cgroup, mounts, files)')
    .option('-f, --force', 'kill running containers first')
    .argument('<names...>')
    .action(async (names: string[], opts: { force?: boolean }) => {
      await forEachName(ctx, names, async (name) => {
        await ctx.runtime().remove(name, { force: opts.force === true });
        ctx.io.stdout.write(`${name}\n`);
      });
    });
}
