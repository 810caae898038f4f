import { readFileSync } from 'node:fs';

/** Bytes of a log before `end` had been written by `time` (ISO). */
export interface TimeMark {
  readonly end: number;
  readonly time: string;
}

/** Where the per-chunk write times of a log file are kept, beside it. */
export function timesFile(logFile: string): string {
  return `${logFile}.times`;
}

/**
 * The write times of a log, as a logger that saw each chunk arrive recorded them: one
 * `END TIME` line per chunk (END a byte offset, TIME in ms since the epoch). A line's time is
 * that of the chunk its newline came in. Without such a file there are no times to give.
 */
export class TimeIndex {
  private marks: TimeMark[] = [];

  constructor(private readonly logFile: string) {
    this.reload();
  }

  get known(): boolean {
    return this.marks.length > 0;
  }

  /** Time of the byte just before `end`, or undefined if no logger recorded it. */
  at(end: number): string | undefined {
    const last = this.marks[this.marks.length - 1];
    if (!last || last.end < end) this.reload();
    // Marks are appended in offset order: binary search for the first that covers `end`.
    let lo = 0;
    let hi = this.marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.marks[mid] as TimeMark).end >= end) hi = mid;
      else lo = mid + 1;
    }
    return this.marks[lo]?.time;
  }

  private reload(): void {
    let text: string;
    try {
      text = readFileSync(timesFile(this.logFile), 'utf8');
    } catch {
      return;
    }
    const marks: TimeMark[] = [];
    for (const line of text.split('\n')) {
      const m = /^(\d+) (\d+(?:\.\d+)?)$/.exec(line);
      if (m) marks.push({ end: Number(m[1]), time: new Date(Number(m[2])).toISOString() });
    }
    this.marks = marks;
  }
}
