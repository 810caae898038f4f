import type { Command } from 'commander';
import type { Capability, CapabilityReport } from '../../capabilities/types.js';
import type { CliContext } from '../context.js';

export function registerCapabilities(program: Command, ctx: CliContext): void {
  program
    .command('capabilities')
    .summary('what this host can isolate and enforce, and how')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => {
      const report = await ctx.backend().capabilities();
      ctx.io.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      ctx.exitCode = 0;
    });
}

export function formatReport(r: CapabilityReport): string {
  const lines: string[] = [];
  const who = r.user.root ? `root; sandboxes run as uid ${r.user.sandboxUid}` : `uid ${r.user.uid}`;
  lines.push(`corral on ${r.platform} ${r.release} (${r.backend}), running as ${who}`);
  lines.push(
    `cgroups: ${r.cgroup.version ? `${r.cgroup.version} at ${r.cgroup.base}` : 'not usable'}; probed in ${r.probeMs} ms`,
  );
  section(lines, 'ISOLATION', r.isolation);
  section(lines, 'LIMITS', r.limits);
  section(lines, 'OTHER', r.features);
  return `${lines.join('\n')}\n`;
}

function section(lines: string[], title: string, entries: Readonly<Record<string, Capability>>): void {
  lines.push('', title);
  const width = Math.max(...Object.keys(entries).map((k) => k.length), 8) + 2;
  for (const [name, c] of Object.entries(entries)) {
    lines.push(`  ${name.padEnd(width)}${c.status.padEnd(13)}${c.mechanism}`);
    if (c.reason) lines.push(`  ${''.padEnd(width)}${''.padEnd(13)}why: ${c.reason}`);
    if (c.fix && c.status === 'unavailable') lines.push(`  ${''.padEnd(width)}${''.padEnd(13)}fix: ${c.fix}`);
  }
}
