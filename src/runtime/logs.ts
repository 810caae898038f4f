import { closeSync, fstatSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { RuntimeContext } from './context.js';
import { TimeIndex } from './log-times.js';
import { deriveState } from './view.js';

/** One line a container wrote. */
export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  /** The line, without its newline. */
  readonly text: string;
  /**
   * ISO time the line was written, where it is known (containers created with log timestamps);
   * undefined otherwise: corral never makes one up.
   */
  readonly time?: string;
}

export interface LogsOptions {
  /** Only the last N lines of each stream. Default: all. */
  readonly tail?: number;
  /** Keep reading as the container writes, until it stops. Default false. */
  readonly follow?: boolean;
  /** Only lines written at or after this time: a Date, an ISO string or ms since the epoch (needs per-line timestamps). */
  readonly since?: Date | string | number;
  /** Which streams. Default both. */
  readonly stream?: 'stdout' | 'stderr' | 'both';
  /** Ends a follow early. */
  readonly signal?: AbortSignal;
}

const CHUNK = 64 * 1024;

/**
 * A container's output, line by line: stdout's lines, then stderr's (without timestamps the two
 * files cannot be interleaved truthfully), then, with `follow`, each new line as it is written.
 */
export async function* readLogs(
  ctx: RuntimeContext,
  name: string,
  options: LogsOptions = {},
): AsyncGenerator<LogLine> {
  const c = ctx.load(name);
  if (options.tail !== undefined && (!Number.isInteger(options.tail) || options.tail < 0))
    throw new ConfigError('tail', `logs: tail must be a whole number of lines, got ${options.tail}`, {
      value: options.tail,
    });
  const since = options.since === undefined ? undefined : new Date(options.since);
  if (since && Number.isNaN(since.getTime()))
    throw new ConfigError('since', `logs: since is not a time: ${JSON.stringify(options.since)}`, {
      value: options.since,
    });
  const which = options.stream ?? 'both';
  const streams = (['stdout', 'stderr'] as const).filter((s) => which === 'both' || which === s);
  const stamped = c.config?.logTimestamps === true;
  const readers = streams.map(
    (s) => new LineReader(s, s === 'stdout' ? c.paths.stdout : c.paths.stderr, stamped),
  );
  if (since && readers.some((r) => !r.times.known && r.size() > 0))
    throw new ConfigError(
      'since',
      `logs --since needs per-line timestamps, and ${name} has none (create it with --log-timestamps)`,
      { value: options.since },
    );
  try {
    for (const r of readers) r.seek(options.tail === undefined ? 0 : r.tailOffset(options.tail));
    // With times on both streams the lines interleave as they were written; without, they cannot.
    const timed = readers.every((r) => r.times.known);
    const flush = !options.follow;
    if (timed) yield* filter(merge(readers.map((r) => r.readLines(flush))), since);
    else for (const r of readers) yield* filter(r.readLines(flush), since);
    if (!options.follow) return;
    let wake: (() => void) | undefined;
    const watchers: FSWatcher[] = [];
    for (const r of readers) {
      try {
        watchers.push(watch(r.file, () => wake?.()));
      } catch {
        // not created yet: the poll below covers it
      }
    }
    options.signal?.addEventListener('abort', () => wake?.(), { once: true });
    try {
      for (;;) {
        // Like docker: a follow ends when the container is not (or no longer) running.
        const running = ['running', 'stopping', 'starting'].includes(deriveState(ctx, ctx.load(name)).status);
        for (const r of readers) yield* filter(r.readLines(!running), since);
        if (!running || options.signal?.aborted) return;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 200);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    } finally {
      for (const w of watchers) w.close();
    }
  } finally {
    for (const r of readers) r.close();
  }
}

/** Merges time-ordered line streams by time (a line without one goes first, as it was read). */
function* merge(streams: Iterator<LogLine>[]): Generator<LogLine> {
  const heads = streams.map((s) => s.next());
  for (;;) {
    let best = -1;
    heads.forEach((h, i) => {
      if (h.done) return;
      const b = heads[best];
      if (best === -1 || (b && !b.done && (h.value.time ?? '') < (b.value.time ?? ''))) best = i;
    });
    if (best === -1) return;
    const h = heads[best] as IteratorYieldResult<LogLine>;
    yield h.value;
    heads[best] = (streams[best] as Iterator<LogLine>).next();
  }
}

function* filter(lines: Iterable<LogLine>, since: Date | undefined): Generator<LogLine> {
  for (const l of lines) if (!since || (l.time !== undefined && new Date(l.time) >= since)) yield l;
}

/** Reads complete lines from a growing file, from an offset; a partial last line waits. */
class LineReader {
  readonly times: TimeIndex;
  private fd: number | undefined;
  private offset = 0;
  private pending = Buffer.alloc(0);

  constructor(
    readonly stream: 'stdout' | 'stderr',
    readonly file: string,
    /** A logger records this stream's times (the container has log timestamps). */
    private readonly expectTimes: boolean,
  ) {
    this.times = new TimeIndex(file);
  }

  size(): number {
    const fd = this.open();
    return fd === undefined ? 0 : fstatSync(fd).size;
  }

  seek(offset: number): void {
    this.offset = offset;
    this.pending = Buffer.alloc(0);
  }

  /** Offset where the last `n` lines begin (a trailing partial line counts as one). */
  tailOffset(n: number): number {
    const fd = this.open();
    if (fd === undefined || n === 0) return this.size();
    let pos = fstatSync(fd).size;
    let newlines = 0;
    const buf = Buffer.alloc(CHUNK);
    // A file ending in "\n" has that newline ending its last line, not starting a new one.
    let skipFirst = true;
    while (pos > 0) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      readSync(fd, buf, 0, len, pos);
      for (let i = len - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) {
          skipFirst = false;
          continue;
        }
        if (skipFirst) {
          skipFirst = false;
          continue;
        }
        if (++newlines === n) return pos + i + 1;
      }
    }
    return 0;
  }

  *readLines(flush: boolean): Generator<LogLine> {
    const fd = this.open();
    if (fd !== undefined) {
      const buf = Buffer.alloc(CHUNK);
      for (;;) {
        const n = readSync(fd, buf, 0, CHUNK, this.offset);
        if (n === 0) break;
        const chunkStart = this.offset - this.pending.length;
        const data = Buffer.concat([this.pending, buf.subarray(0, n)]);
        this.offset += n;
        let start = 0;
        for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, start)) {
          const line = this.line(data.subarray(start, i), chunkStart + i + 1);
          // The logger writes a chunk, then its time: a line read in between waits for it.
          if (!flush && this.expectTimes && line.time === undefined) {
            this.pending = Buffer.from(data.subarray(start));
            return;
          }
          yield line;
          start = i + 1;
        }
        this.pending = Buffer.from(data.subarray(start));
      }
    }
    if (flush && this.pending.length > 0) {
      const text = this.pending;
      this.pending = Buffer.alloc(0);
      yield this.line(text, this.offset);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private line(bytes: Buffer, end: number): LogLine {
    const time = this.times.at(end);
    return { stream: this.stream, text: bytes.toString('utf8'), ...(time && { time }) };
  }

  private open(): number | undefined {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.file, 'r');
      } catch {
        return undefined;
      }
    }
    return this.fd;
  }
}
