import type { Command } from 'commander';
import { CorralError } from '../../errors.js';
import type { ContainerStats } from '../../runtime/types.js';
import { formatBytes } from '../../spec/units.js';
import type { CliContext } from '../context.js';
import { table } from '../format/table.js';

export function registerStats(program: Command, ctx: CliContext): void {
  program
    .command('stats')
    .summary('live resource use of running containers (a table refreshed in place)')
    .option('--no-stream', 'print one reading and exit')
    .argument('[names...]', 'containers (default: all running)')
    .action(async (names: string[], opts: { stream: boolean }) => {
      const rt = ctx.runtime();
      const pick = () =>
        names.length > 0
          ? names
          : rt
              .list()
              .filter((c) => c.state.status === 'running')
              .map((c) => c.name);
      const read = async () => {
        const out: ContainerStats[] = [];
        await Promise.all(
          pick().map(async (n) => {
            try {
              out.push(await rt.stats(n, { intervalMs: 500 }));
            } catch (err) {
              // A container that stopped meanwhile drops out of the table; a bad name is an error.
              if (names.length > 0 && !(err instanceof CorralError && err.code === 'E_STATE')) throw err;
            }
          }),
        );
        return out.sort((a, b) => a.name.localeCompare(b.name));
      };
      if (!opts.stream) {
        ctx.io.stdout.write(statsTable(await read()));
        return;
      }
      let stopped = false;
      const onSignal = () => (stopped = true);
      process.once('SIGINT', onSignal);
      try {
        while (!stopped) {
          const rows = await read();
          // Cursor home + clear screen: the table is redrawn in place, like docker stats.
          ctx.io.stdout.write(`\x1b[H\x1b[2J${statsTable(rows)}`);
          if (names.length > 0 && rows.length === 0) break;
          await new Promise((r) => setTimeout(r, 500));
        }
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}

export function statsTable(list: readonly ContainerStats[]): string {
  const rows = [['NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PEAK', 'PIDS']];
  for (const s of list) {
    const mem = s.memoryBytes === null ? '-' : formatBytes(s.memoryBytes);
    const limit = s.memoryLimitBytes === null ? 'unlimited' : formatBytes(s.memoryLimitBytes);
    const pct =
      s.memoryBytes !== null && s.memoryLimitBytes
        ? `${((s.memoryBytes / s.memoryLimitBytes) * 100).toFixed(1)}%`
        : '-';
    rows.push([
      s.name,
      s.cpuPercent === null ? '-' : `${s.cpuPercent.toFixed(1)}%`,
      `${mem} / ${limit}`,
      pct,
      s.peakMemoryBytes === null ? '-' : formatBytes(s.peakMemoryBytes),
      s.pids === null ? '-' : String(s.pids),
    ]);
  }
  return table(rows);
}
