import { TracerCore } from '../../src/trace/tracer-core.js';
import type { ExecEvent, TraceEvent, TraceTarget } from '../../src/trace/types.js';

/** A tracer whose events the test pushes; it records how it was started and stopped. */
export class FakeTracer extends TracerCore {
  readonly backend = 'fake';
  target: TraceTarget | undefined;
  closed = 0;
  failStart: Error | undefined;

  protected open(target: TraceTarget): Promise<void> {
    if (this.failStart) return Promise.reject(this.failStart);
    this.target = target;
    return Promise.resolve();
  }

  protected close(): Promise<void> {
    this.closed++;
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
