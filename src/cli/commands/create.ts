import type { Command } from 'commander';
import { resolveCreate } from '../options/container-options.js';
import { addSandboxOptions } from '../options/sandbox-options.js';
import type { CliContext } from '../context.js';

export function registerCreate(program: Command, ctx: CliContext): void {
  addContainerOptions(
    addSandboxOptions(
      program
        .command('create')
        .summary('create a container (a sandbox that runs detached); prints its name')
        .argument('<command...>', 'the command and its arguments (put -- before it)'),
    ),
  )
    .option(
      '--trace',
      'record every command the container (and exec) runs in its trace.jsonl: see corral trace NAME; keeps a small recorder process per running container',
    )
    .action(async (command: string[], opts: Record<string, unknown>) => {
      const { name, spec, options } = resolveCreate(command, opts, ctx.io);
      const c = await ctx.runtime().create(name, spec, options);
      ctx.io.stdout.write(`${c.name}\n`);
    });
}

/** Options of `create` and `run -d` beyond the sandbox ones. */
export function addContainerOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'container name (default: generated)')
    .option('--image <image>', 'run on a copy-on-write view of an image (see corral image import)')
    .option(
      '--log-timestamps',
      'record when each output line was written (logs -t, --since); keeps a small logger process per running container',
    );
}
