import type { Command } from 'commander';
import type { Runtime } from '../../runtime/runtime.js';
import { printTrace } from '../../trace/show.js';
import type { CliContext } from '../context.js';
import { say } from '../output.js';

export function registerTrace(program: Command, ctx: CliContext): void {
  program
    .command('trace')
    .summary('show every command a traced container ran (see create --trace), live with -f')
    .option('-f, --follow', 'keep printing new events until the container has ended (or Ctrl-C)')
    .option('--json', 'print the JSONL records as they are, one per line')
    .option('--utc', 'show times in UTC instead of local time')
    .argument('<name>')
    .action(async (name: string, opts: { follow?: boolean; json?: boolean; utc?: boolean }) => {
      const rt = ctx.runtime();
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      try {
        const records = rt.trace(name, { follow: opts.follow === true, signal: stop.signal });
        const summary = await printTrace(records, ctx.io.stdout, {
          json: opts.json ?? false,
          utc: opts.utc ?? false,
        });
        // Said on stderr, so a program reading --json sees only records.
        if (summary.backend === null && neverStarted(rt, name))
          say(ctx.io, `${name} has not been started yet: its trace begins at its first start`);
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}

function neverStarted(rt: Runtime, name: string): boolean {
  try {
    return rt.state(name).status === 'created';
  } catch {
    return false; // removed meanwhile
  }
}
