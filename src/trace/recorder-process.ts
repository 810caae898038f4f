import { spawn } from 'node:child_process';
import { LaunchError } from '../errors.js';
import { nodeEntry } from '../util/node-entry.js';

export interface RecorderProcessOptions {
  /** The sandbox: its init pid, cgroup name, and the label for `event.sandbox`. */
  readonly target: {
    readonly initPid: number;
    readonly cgroupName?: string;
    readonly sandbox?: string;
    /** Also record processes that join the cgroup later (see TraceTarget.joiners). Default: false. */
    readonly joiners?: boolean;
  };
  /** The JSONL file (e.g. a container's `trace.jsonl`). */
  readonly file: string;
  /** Add to the file instead of replacing it (a restarted container). Default: false. */
  readonly append?: boolean;
  /** Force a tracer backend. Default: the best available. */
  readonly backend?: string;
  /** Polling backends' interval, ms. Default: theirs. */
  readonly intervalMs?: number;
}

export type RecorderMessage = { op: 'ready'; backend: string } | { op: 'failed'; message: string };

export interface RecorderProcess {
  /** Host pid of the recorder (SIGTERM stops it early, writing the end record). */
  readonly pid: number;
  /** The tracer backend it uses. */
  readonly backend: string;
}

/**
 * Starts a detached recorder process for a sandbox and resolves once it traces, so calling it
 * from `onReady` means the sandbox's first exec is recorded. It writes `start`, the events and
 * `end` to the file, ends by itself when the sandbox's init exits, and outlives the caller:
 * what a daemonless lifecycle container needs for its `trace.jsonl`.
 */
export function startRecorderProcess(options: RecorderProcessOptions): Promise<RecorderProcess> {
  const { file, execArgv } = nodeEntry(import.meta.url, 'recorder-main');
  // One thread for V8's garbage collector: its helper threads would otherwise take CPU from the
  // traced container in every burst of events (bench:trace, in-process: 1.07x instead of 1.10x).
  const child = spawn(
    process.execPath,
    ['--single-threaded-gc', '--expose-gc', ...execArgv, file, JSON.stringify(options)],
    {
      detached: true,
      // It outlives the caller: it must not keep the caller's directory (a mount, a data dir) busy.
      cwd: '/',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    },
  );
  return new Promise<RecorderProcess>((resolve, reject) => {
    const fail = (why: string) => {
      child.kill('SIGKILL');
      reject(new LaunchError(`the trace recorder did not start: ${why}`, { file: options.file }));
    };
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`it exited (${signal ?? `code ${code}`})`));
    child.once('message', (m: RecorderMessage) => {
      child.removeAllListeners('exit');
      if (m.op === 'failed') return fail(m.message);
      child.unref();
      child.channel?.unref();
      resolve({ pid: child.pid as number, backend: m.backend });
    });
  });
}
