import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerPort(program: Command, ctx: CliContext): void {
  program
    .command('port')
    .summary('print the TCP port reserved for a container (its PORT and CORRAL_PORT)')
    .argument('<name>')
    .action((name: string) => {
      const info = ctx.runtime().inspect(name);
      if (info.port === null) return;
      ctx.io.stdout.write(info.ip ? `${info.ip}:${info.port}\n` : `${info.port}\n`);
    });
}
