import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { TraceRecord } from './record.js';

export interface TraceWriterOptions {
  /** Add to an existing file instead of replacing it. Default: false. */
  readonly append?: boolean;
}

/**
 * Writes trace records to a file, one JSON object per line. Lines go out as they come (a
 * follower in another process sees them within a moment); close() flushes and closes the file.
 */
export class TraceWriter {
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly file: string,
    options: TraceWriterOptions = {},
  ) {
    this.stream = createWriteStream(file, { flags: options.append ? 'a' : 'w', mode: 0o600 });
    this.stream.on('error', (err) => (this.failure ??= err));
  }

  /** Resolves once the file is open (rejects if it cannot be created). */
  async opened(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.stream.pending) await once(this.stream, 'ready');
  }

  write(record: TraceRecord): void {
    if (this.closing || this.failure) return;
    this.stream.write(`${JSON.stringify(record)}\n`);
  }

  /** Flushes and closes; rejects with the first write error, if any. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.stream.closed || this.stream.destroyed) return resolve();
      this.stream.end(() => resolve());
      this.stream.once('error', () => resolve());
    }).then(() => {
      if (this.failure) throw this.failure;
    });
    return this.closing;
  }
}
