import { programName, toArgv } from './classify/argv.js';
import { classify, type ExecTag } from './classify/index.js';
import { shellQuote } from './format.js';
import type { TraceRecord } from './record.js';

/** At most this many example command lines are kept per tag. */
const EXAMPLES = 20;

/** What a run did, in numbers, for the end of a run or a `--result-file`. */
export interface TraceSummary {
  /** Backend that recorded it (null if no start record was seen). */
  readonly backend: string | null;
  readonly execs: number;
  readonly execsWithArgv: number;
  /** execsWithArgv / execs; null when there was no exec. */
  readonly argvCaptureRate: number | null;
  readonly forks: number;
  readonly exits: number;
  /** Exits with a non-zero code or by a signal (the sandbox's init excepted). */
  readonly failures: number;
  /** Times events were known to be missed: the record is incomplete when > 0. */
  readonly lost: number;
  /** Programs run (argv[0] without its directory), most frequent first. */
  readonly commands: readonly { readonly command: string; readonly count: number }[];
  /** Command lines per tag (first ones), and how many there were. */
  readonly flagged: Readonly<
    Record<ExecTag, { readonly count: number; readonly examples: readonly string[] }>
  >;
}

/** Builds a TraceSummary from records as they come. */
export class TraceSummarizer {
  private backend: string | null = null;
  private initPid: number | undefined;
  private execs = 0;
  private withArgv = 0;
  private forks = 0;
  private exits = 0;
  private failures = 0;
  private lost = 0;
  private readonly commands = new Map<string, number>();
  private readonly flagged: Record<ExecTag, { count: number; examples: string[] }> = {
    'git-commit': { count: 0, examples: [] },
    'package-install': { count: 0, examples: [] },
    network: { count: 0, examples: [] },
  };

  add(r: TraceRecord): void {
    switch (r.type) {
      case 'start':
        this.backend = r.backend;
        this.initPid = r.initPid;
        return;
      case 'fork':
        this.forks++;
        return;
      case 'exit':
        this.exits++;
        // The init is the sandbox's own container process: corral's teardown may kill it.
        if (r.pid !== this.initPid && ((r.exitCode !== null && r.exitCode !== 0) || r.signal !== null))
          this.failures++;
        return;
      case 'lost':
        this.lost++;
        return;
      case 'exec': {
        this.execs++;
        if (r.argv === 'full' || r.argv === 'split') this.withArgv++;
        const name = programName(r.command ?? undefined) || '?';
        this.commands.set(name, (this.commands.get(name) ?? 0) + 1);
        for (const tag of r.args === null ? [] : classify(r)) {
          const f = this.flagged[tag];
          f.count++;
          if (f.examples.length < EXAMPLES) f.examples.push(toArgv(r).map(shellQuote).join(' '));
        }
        return;
      }
      default:
        return;
    }
  }

  result(): TraceSummary {
    return {
      backend: this.backend,
      execs: this.execs,
      execsWithArgv: this.withArgv,
      argvCaptureRate: this.execs === 0 ? null : this.withArgv / this.execs,
      forks: this.forks,
      exits: this.exits,
      failures: this.failures,
      lost: this.lost,
      commands: [...this.commands]
        .map(([command, count]) => ({ command, count }))
        .sort((a, b) => b.count - a.count || a.command.localeCompare(b.command)),
      flagged: structuredClone(this.flagged),
    };
  }
}

/** Summarises a whole list of records. */
export function summarize(records: Iterable<TraceRecord>): TraceSummary {
  const s = new TraceSummarizer();
  for (const r of records) s.add(r);
  return s.result();
}

/** A few lines for stderr at the end of a run. */
export function formatSummary(s: TraceSummary, maxCommands = 8): string[] {
  const rate =
    s.argvCaptureRate === null ? '' : ` (argv captured for ${(s.argvCaptureRate * 100).toFixed(1)}%)`;
  const lines = [
    `trace: ${s.execs} execs${rate}, ${s.forks} forks, ${s.exits} exits, ${s.failures} failed${s.backend ? `; backend ${s.backend}` : ''}`,
  ];
  if (s.lost > 0) lines.push(`trace: INCOMPLETE: events were missed ${s.lost} time(s)`);
  if (s.commands.length > 0) {
    const top = s.commands.slice(0, maxCommands).map((c) => `${c.command} x${c.count}`);
    const more = s.commands.length > maxCommands ? `, ... ${s.commands.length - maxCommands} more` : '';
    lines.push(`trace: commands: ${top.join(', ')}${more}`);
  }
  for (const [tag, f] of Object.entries(s.flagged)) {
    if (f.count === 0) continue;
    lines.push(
      `trace: ${tag} x${f.count}: ${f.examples.slice(0, 3).join(' | ')}${f.count > 3 ? ' | ...' : ''}`,
    );
  }
  return lines;
}
