import { execFile } from 'node:child_process';
import { CAPTURE_SCRIPT } from './capture-script.js';
import {
  CaptureError,
  ERRNO_NAMES,
  PERL_FIX,
  openCapture,
  type Capture,
  type CaptureOptions,
} from './capture-process.js';

export interface ConnectorCaptureOptions extends CaptureOptions {
  /** SO_RCVBUF of each netlink socket, bytes: room for bursts while the capture is busy. */
  readonly receiveBuffer: number;
  readonly subscribeTimeoutMs: number;
  /** How long the capture may hold events before writing them, ms (it writes at once on `drain`). */
  readonly flushMs: number;
  /** Ask for SCHED_FIFO priority 1 for the capture (through chrt). */
  readonly realtime: boolean;
}

/** What to do about a proc connector capture that could not start, by its error's code. */
export function captureFix(code: string | undefined): string {
  if (code === 'EPERM') return 'run corral as root (CAP_NET_ADMIN), or use a kernel >= 6.6';
  if (code === 'ENOPERL') return PERL_FIX;
  return 'a kernel with CONFIG_PROC_EVENTS, in the initial namespaces; else the /proc polling tracer';
}

/**
 * Starts the proc connector capture (capture-script.ts) and resolves once the kernel has
 * accepted its subscription: from then on every fork, exec and exit of the processes it is told
 * to follow is delivered, each exec with its argv, exe and cwd as read at the moment it was
 * reported. Rejects with the kernel's refusal (EPERM without CAP_NET_ADMIN before Linux 6.6),
 * on timeout (the kernel ignores requests from outside the initial user and pid namespaces), or
 * when perl is missing.
 */
export function openConnectorCapture(options: ConnectorCaptureOptions): Promise<Capture> {
  return openCapture(
    {
      script: CAPTURE_SCRIPT,
      args: [String(options.receiveBuffer), String(options.flushMs), String(options.subscribeTimeoutMs), '1'],
      startTimeoutMs: options.subscribeTimeoutMs + 5000,
      refused: (errno, why) =>
        new CaptureError(
          `the kernel refused the proc connector subscription: ${why} (errno ${errno})`,
          ERRNO_NAMES[errno],
        ),
      cgroupCommand: (name, on) => `${on ? 'C' : 'c'} ${name}`,
      ...(options.realtime && { schedule: raisePriority }),
    },
    options,
  );
}

/**
 * SCHED_FIFO at the lowest real-time priority: the capture then runs as soon as an event arrives
 * instead of waiting for a busy CPU's time slice (measured here: otherwise 3-20% of argv is lost
 * in a burst of short execs). The kernel's real-time throttling still bounds it, and it starts
 * nothing that could inherit it.
 */
function raisePriority(pid: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('chrt', ['-f', '-p', '1', String(pid)], { timeout: 2000 }, (err) =>
      resolve(err ? null : `SCHED_FIFO 1 (pid ${pid})`),
    );
  });
}
