import type { Command } from 'commander';
import { formatBytes } from '../../spec/units.js';
import type { CliContext } from '../context.js';
import { humanDuration } from '../format/status.js';
import { table } from '../format/table.js';
import { say } from '../output.js';

export function registerImage(program: Command, ctx: CliContext): void {
  const image = program.command('image').summary('manage root filesystem images (import, ls, rm)');
  image
    .command('import')
    .summary('register a directory tree or a tar archive as an image')
    .argument('<source>', 'a directory or a .tar file (compressed ones too)')
    .argument('<name>')
    .action(async (source: string, name: string) => {
      const info = await ctx.runtime().importImage(source, name);
      if (info.devicesDropped > 0)
        say(ctx.io, `dropped ${info.devicesDropped} device node(s) from the image`);
      ctx.io.stdout.write(`${info.name}\n`);
    });
  image
    .command('ls')
    .summary('list images')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => {
      const list = ctx.runtime().images();
      if (opts.json) {
        ctx.io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = [['NAME', 'CREATED', 'SIZE', 'FILES', 'SOURCE']];
      for (const i of list)
        rows.push([
          i.name,
          `${humanDuration(Date.now() - Date.parse(i.createdAt))} ago`,
          formatBytes(i.sizeBytes),
          String(i.files),
          i.source,
        ]);
      ctx.io.stdout.write(table(rows));
    });
  image
    .command('rm')
    .summary('remove an image no container uses')
    .argument('<names...>')
    .action((names: string[]) => {
      for (const n of names) {
        ctx.runtime().removeImage(n);
        ctx.io.stdout.write(`${n}\n`);
      }
    });
}
