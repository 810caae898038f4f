import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { exitCodeForError } from '../exit-codes.js';
import { reportError } from '../output.js';

export function registerInspect(program: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .summary('print what corral knows about containers, as JSON')
    .argument('<names...>')
    .action((names: string[]) => {
      const out: unknown[] = [];
      for (const name of names) {
        try {
          out.push(ctx.runtime().inspect(name));
        } catch (err) {
          reportError(ctx.io, err);
          if (ctx.exitCode === 0) ctx.exitCode = exitCodeForError(err);
        }
      }
      ctx.io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}
