import { classify } from './classify/index.js';
import type { TraceRecord } from './record.js';

export interface FormatOptions {
  /** Show times in UTC instead of local time. Default: false. */
  readonly utc?: boolean;
}

const isControl = (c: string) => c.charCodeAt(0) < 0x20 || c === '\x7f';

/** Quotes an argument the way a POSIX shell would need it, so the line can be read (and pasted). */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[\w@%+=:,./-]+$/u.test(arg)) return arg;
  // Control characters would garble a terminal: ANSI-C quoting shows them as escapes.
  if ([...arg].some(isControl))
    return `$'${[...arg].map((c) => (isControl(c) ? ctrl(c) : c === '\\' || c === "'" ? `\\${c}` : c)).join('')}'`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function ctrl(c: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
  return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

function clock(iso: string, utc: boolean): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return utc
    ? `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`
    : `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * One line per record for people, e.g.
 * `12:00:01.234 exec   4242 <- 4200  git commit -m 'fix the bug'  [git-commit] cwd=/work`.
 */
export function formatRecord(r: TraceRecord, options: FormatOptions = {}): string {
  const t = clock(r.timestamp, options.utc ?? false);
  switch (r.type) {
    case 'exec': {
      const who = `${r.pid} <- ${r.ppid ?? '?'}`;
      const line =
        r.args === null
          ? `${r.command ?? '?'} [argv not captured: the process was gone]`
          : [r.command ?? '', ...r.args].map(shellQuote).join(' ');
      const tags = r.args === null ? [] : classify(r);
      const extra = [
        r.argv === 'split' ? '(args split on spaces)' : '',
        r.argv === 'truncated' ? '(argv truncated)' : '',
        tags.length ? `[${tags.join(', ')}]` : '',
        r.attached ? '(already running)' : '',
        r.cwd ? `cwd=${shellQuote(r.cwd)}` : '',
      ].filter(Boolean);
      return `${t} exec  ${who.padEnd(13)} ${line}${extra.length ? `  ${extra.join(' ')}` : ''}`;
    }
    case 'fork':
      return `${t} fork  ${`${r.pid} <- ${r.ppid ?? '?'}`.padEnd(13)}`.trimEnd();
    case 'exit': {
      const how =
        r.status === null
          ? 'ended (status unknown)'
          : r.signal
            ? `killed by ${r.signal}${r.coreDumped ? ' (core dumped)' : ''}`
            : `exit ${r.exitCode}`;
      return `${t} exit  ${String(r.pid).padEnd(13)} ${how}${r.command ? `  (${r.command})` : ''}`;
    }
    case 'lost':
      return `${t} LOST  events were missed: ${r.reason}`;
    case 'start':
      return `${t} trace of ${r.sandbox} started (backend ${r.backend}, init pid ${r.initPid})`;
    case 'end': {
      const c = r.counts;
      return `${t} trace of ${r.sandbox} ended: ${c.execs} execs, ${c.forks} forks, ${c.exits} exits${c.lost ? `, ${c.lost} losses` : ''}`;
    }
  }
}
