import type { Command } from 'commander';
import type { ContainerInfo } from '../../runtime/types.js';
import type { CliContext } from '../context.js';
import { humanDuration, statusText } from '../format/status.js';
import { table } from '../format/table.js';

export function registerPs(program: Command, ctx: CliContext): void {
  program
    .command('ps')
    .summary('list running containers (-a: all)')
    .option('-a, --all', 'show all containers, not only running ones')
    .option('-q, --quiet', 'print names only')
    .option('--json', 'print the full records as JSON')
    .action((opts: { all?: boolean; quiet?: boolean; json?: boolean }) => {
      const all = ctx.runtime().list();
      const shown = opts.all ? all : all.filter((c) => ['running', 'stopping'].includes(c.state.status));
      if (opts.json) ctx.io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      else if (opts.quiet) ctx.io.stdout.write(shown.map((c) => `${c.name}\n`).join(''));
      else ctx.io.stdout.write(psTable(shown));
    });
}

export function psTable(list: readonly ContainerInfo[], now = Date.now()): string {
  const rows = [['NAME', 'STATUS', 'PORT', 'CREATED', 'COMMAND']];
  for (const c of list) {
    const cmd = c.command.join(' ');
    rows.push([
      c.name,
      statusText(c.state, now),
      c.port === null ? '' : String(c.port),
      c.createdAt ? `${humanDuration(now - Date.parse(c.createdAt))} ago` : '',
      JSON.stringify(cmd.length > 40 ? `${cmd.slice(0, 37)}...` : cmd),
    ]);
  }
  return table(rows);
}
