import { TracerCore } from '../../src/trace/tracer-core.js';
import type { ExecEvent, TraceEvent, TraceTarget } from '../../src/trace/types.js';

/** A tracer whose events the test pushes; it records how it was started and stopped. */
export class FakeTracer extends TracerCore {
  readonly backend = 'fake';
  target: TraceTarget | undefined;
  closed = 0;
  failStart: Error | undefined;
  /** open() waits for this (a backend that takes its time to start). */
  gate: Promise<void> | undefined;
  /** Whether open() had finished each time close() was called. */
  readonly closedAfterOpen: boolean[] = [];
  private opened = false;

  protected async open(target: TraceTarget): Promise<void> {
    await this.gate;
    if (this.failStart) throw this.failStart;
    this.target = target;
    this.opened = true;
  }

  protected close(): Promise<void> {
    this.closed++;
    this.closedAfterOpen.push(this.opened);
    return Promise.resolve();
  }

  push(event: TraceEvent): void {
    this.emit(event);
  }
}

/** An exec event with sensible defaults. */
export function execEvent(argv: string[] | null, over: Partial<ExecEvent> = {}): ExecEvent {
  return {
    type: 'exec',
    timestamp: '2024-05-01T12:00:00.000Z',
    pid: 100,
    ppid: 99,
    sandbox: 'box',
    command: argv ? (argv[0] ?? null) : 'true',
    args: argv ? argv.slice(1) : null,
    cwd: '/work',
    exe: '/usr/bin/x',
    argv: argv ? 'full' : 'none',
    ...over,
  };
}
