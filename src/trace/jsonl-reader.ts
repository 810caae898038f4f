import { open, type FileHandle } from 'node:fs/promises';
import { watch } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../errors.js';
import { parseRecord, type TraceRecord } from './record.js';

export interface ReadTraceOptions {
  /** Keep reading as the file grows, until an `end` record or the signal. Default: false. */
  readonly follow?: boolean;
  /**
   * Following: stop at the first `end` record. Default: true. A file that several recorders
   * append to (a container's restarts) holds several, so its reader passes false and `done`.
   */
  readonly untilEnd?: boolean;
  /**
   * Following: asked each time the reader has caught up with the file; once it says true (no
   * writer will add anything), the reader reads what is left and ends. Default: never.
   */
  readonly done?: () => boolean;
  /** Stops following (the iteration then ends quietly). */
  readonly signal?: AbortSignal;
  /** Following: how often to look for new data when no change notification came, ms. Default 250. */
  readonly pollMs?: number;
}

/**
 * Reads a JSONL trace file record by record. Without `follow`, an unterminated last line (a
 * writer that died mid-line) is ignored; with `follow`, it is awaited, and a file that does not
 * exist yet is waited for (until `done`). A malformed complete line is an error naming the file and line.
 */
export async function* readTrace(file: string, options: ReadTraceOptions = {}): AsyncGenerator<TraceRecord> {
  const { follow = false, signal, untilEnd = true } = options;
  const handle = follow ? await waitOpen(file, options) : await open(file, 'r');
  if (!handle) return;
  const wake = follow ? changeNotifier(file, options.pollMs ?? 250, signal) : undefined;
  const decoder = new StringDecoder('utf8');
  const chunk = Buffer.alloc(64 << 10);
  let pending = '';
  let lineNo = 0;
  // Set once `done` said so: the next time the reader catches up, it ends.
  let last = false;
  try {
    for (;;) {
      if (signal?.aborted) return;
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) {
        if (!wake || last) return;
        // Asked after reading to the end: what was written before it said true is read next.
        if (options.done?.()) last = true;
        else await wake.next();
        continue;
      }
      pending += decoder.write(chunk.subarray(0, bytesRead));
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        lineNo++;
        if (line.trim() === '') continue;
        const parsed = parseRecord(line);
        if ('error' in parsed)
          throw new ConfigError('trace', `line ${lineNo} of ${file} is not a trace record: ${parsed.error}`, {
            file,
            line: lineNo,
          });
        yield parsed.record;
        if (follow && untilEnd && parsed.record.type === 'end') return;
      }
    }
  } finally {
    wake?.close();
    await handle.close();
  }
}

async function waitOpen(file: string, options: ReadTraceOptions): Promise<FileHandle | undefined> {
  for (;;) {
    // Asked before the attempt, so a file made just before `done` turned true is still read.
    const finished = options.done?.() ?? false;
    try {
      return await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (finished || options.signal?.aborted) return undefined;
    await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/**
 * Resolves `next()` when the file may have grown: on an inotify change, after `pollMs` at the
 * latest (watchers miss changes on some filesystems), or at once when the signal aborts.
 */
function changeNotifier(file: string, pollMs: number, signal: AbortSignal | undefined) {
  let wakeUp: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    wakeUp?.();
    wakeUp = undefined;
  };
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(file, { persistent: false }, fire);
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined;
  }
  signal?.addEventListener('abort', fire);
  return {
    next: () =>
      new Promise<void>((resolve) => {
        // Aborted before this wait began: `fire` found nobody to wake.
        if (signal?.aborted) return resolve();
        wakeUp = resolve;
        // Not unref'd: a follower is what keeps `corral trace -f` running.
        timer = setTimeout(fire, pollMs);
      }),
    close: () => {
      watcher?.close();
      signal?.removeEventListener('abort', fire);
      fire();
    },
  };
}
