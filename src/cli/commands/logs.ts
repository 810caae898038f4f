import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { parseDuration } from '../../spec/units.js';
import type { CliContext } from '../context.js';
import { say } from '../output.js';

export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .summary("print a container's output (stdout to stdout, stderr to stderr)")
    .option('-f, --follow', 'keep printing new output until the container stops')
    .option('-n, --tail <lines>', 'only the last N lines of each stream')
    .option('-t, --timestamps', 'prefix each line with the time it was written (where known)')
    .option('--since <time>', 'only lines written since TIME (RFC 3339) or for DURATION (e.g. 10m)')
    .argument('<name>')
    .action(
      async (
        name: string,
        opts: { follow?: boolean; tail?: string; timestamps?: boolean; since?: string },
      ) => {
        const tail = opts.tail === undefined || opts.tail === 'all' ? undefined : Number(opts.tail);
        if (tail !== undefined && (!Number.isInteger(tail) || tail < 0))
          throw new ConfigError('tail', `logs --tail: not a number of lines: ${JSON.stringify(opts.tail)}`, {
            value: opts.tail,
          });
        const since = opts.since === undefined ? undefined : parseSince(opts.since);
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        let untimed = 0;
        try {
          for await (const line of ctx.runtime().logs(name, {
            ...(tail !== undefined && { tail }),
            ...(since && { since }),
            follow: opts.follow === true,
            signal: stop.signal,
          })) {
            const out = line.stream === 'stdout' ? ctx.io.stdout : ctx.io.stderr;
            if (opts.timestamps && line.time === undefined) untimed++;
            const prefix = opts.timestamps ? `${line.time ?? '-'} ` : '';
            out.write(`${prefix}${line.text}\n`);
          }
        } finally {
          process.off('SIGINT', onSignal);
        }
        if (untimed > 0)
          say(
            ctx.io,
            `${untimed} line(s) shown with "-": their write time was not recorded (create the container with --log-timestamps to record it)`,
          );
      },
    );
}

function parseSince(raw: string): Date {
  const ms = parseDuration(raw);
  if (ms !== undefined && /[a-z]$/i.test(raw.trim())) return new Date(Date.now() - ms);
  const t = Date.parse(raw);
  if (Number.isNaN(t))
    throw new ConfigError(
      'since',
      `logs --since: not a time or duration (e.g. 2024-05-01T10:00:00Z, 10m): ${JSON.stringify(raw)}`,
      {
        value: raw,
      },
    );
  return new Date(t);
}
