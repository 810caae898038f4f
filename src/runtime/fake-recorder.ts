import { appendFileSync } from 'node:fs';
import type { TraceRecord } from '../trace/record.js';

/**
 * The fake driver's trace recorder: appends to a container's trace file what a real recorder
 * would for a fake container (its start, the command's exec and exit, commands exec'd into it,
 * the end), so the trace verb and the library can be tested without a kernel.
 */
export class FakeRecorder {
  private ended = false;
  private readonly counts = { execs: 0, execsWithArgv: 0, forks: 0, exits: 0, lost: 0 };

  constructor(
    private readonly file: string,
    private readonly label: string,
    readonly initPid: number,
    private readonly onEnd: () => void,
  ) {
    this.write({ type: 'start', backend: 'fake', initPid });
  }

  exec(pid: number, ppid: number | null, command: readonly string[]): void {
    this.counts.execs++;
    this.counts.execsWithArgv++;
    const [head, ...args] = command;
    this.write({ type: 'exec', pid, ppid, command: head ?? null, args, cwd: '/', exe: null, argv: 'full' });
  }

  exit(pid: number, command: string | null, code: number): void {
    this.counts.exits++;
    const signalled = code > 128;
    this.write({
      type: 'exit',
      pid,
      ppid: null,
      status: signalled ? code - 128 : code << 8,
      exitCode: signalled ? null : code,
      signal: null,
      coreDumped: false,
      command,
    });
  }

  /** Writes the end record and ends the fake process; only the first call counts. */
  end(): void {
    if (this.ended) return;
    this.write({ type: 'end', counts: { ...this.counts } });
    this.ended = true;
    this.onEnd();
  }

  private write(fields: Record<string, unknown>): void {
    if (this.ended) return;
    const record = { ...fields, timestamp: new Date().toISOString(), sandbox: this.label } as TraceRecord;
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }
}
