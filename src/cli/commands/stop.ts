import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { forEachName } from '../names-arg.js';

export function registerStop(program: Command, ctx: CliContext): void {
  program
    .command('stop')
    .summary('stop running containers: SIGTERM to all their processes, SIGKILL after a grace period')
    .option('-t, --time <seconds>', 'seconds to wait before SIGKILL', '10')
    .argument('<names...>')
    .action(async (names: string[], opts: { time: string }) => {
      const seconds = Number(opts.time);
      if (!/^\d+(\.\d+)?$/.test(opts.time.trim()) || !Number.isFinite(seconds))
        throw new ConfigError('time', `stop -t: not a number of seconds: ${JSON.stringify(opts.time)}`, {
          value: opts.time,
        });
      await forEachName(ctx, names, async (name) => {
        await ctx.runtime().stop(name, { grace: seconds * 1000 });
        ctx.io.stdout.write(`${name}\n`);
      });
    });
}
