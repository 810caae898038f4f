import { SnapshotDiffer, type ProcessSnapshot } from '../../../trace/snapshot-diff.js';
import { TracerCore } from '../../../trace/tracer-core.js';
import type { TraceTarget } from '../../../trace/types.js';
import { descendantsOf } from '../proc-tree.js';
import { hostProc, type ProcReader } from './sandbox-filter.js';

export interface ProcPollOptions {
  /** How often to scan the sandbox's processes, in ms. Default: 100. */
  readonly intervalMs?: number;
  /** Where /proc is read from (tests pass a fake host). */
  readonly proc?: ProcReader;
  /** Where the sandbox's process tree comes from. Default: /proc/PID/task/TID/children. */
  readonly descendants?: (pid: number) => number[];
}

/**
 * Linux without the proc connector (not root on a kernel before 6.6): scans the sandbox's
 * processes (its cgroup and the descendants of its init) every interval. It needs no privilege, but a process that lives
 * shorter than the interval is never seen, exit statuses are unknown, and timestamps are those
 * of the scan: the capability report says so.
 */
export class ProcPollTracer extends TracerCore {
  readonly backend = 'proc-poll';
  private timer: NodeJS.Timeout | undefined;
  private target: TraceTarget | undefined;
  private differ: SnapshotDiffer | undefined;
  private readonly proc: ProcReader;

  constructor(private readonly options: ProcPollOptions = {}) {
    super();
    this.proc = options.proc ?? hostProc;
  }

  protected open(target: TraceTarget, label: string): Promise<void> {
    this.target = target;
    this.differ = new SnapshotDiffer(label, target.initPid);
    this.scan(true);
    this.timer = setInterval(() => this.scan(false), this.options.intervalMs ?? 100);
    this.timer.unref();
    return Promise.resolve();
  }

  protected close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // One last look, so processes that ended since the previous scan get their exit event.
    this.scan(false);
    this.target = undefined;
    return Promise.resolve();
  }

  private snapshot(t: TraceTarget): ProcessSnapshot[] {
    const tree = this.options.descendants ?? descendantsOf;
    const pids = new Set([t.initPid, ...(t.cgroupProcs?.() ?? []), ...tree(t.initPid)]);
    const out: ProcessSnapshot[] = [];
    for (const pid of pids) {
      const stat = this.proc.stat(pid);
      if (!stat) continue;
      out.push({ pid, ppid: stat.ppid, start: stat.startTime, ...this.proc.execInfo(pid) });
    }
    return out;
  }

  private scan(first: boolean): void {
    const t = this.target;
    if (!t || !this.differ) return;
    for (const e of this.differ.diff(this.snapshot(t), first)) this.emit(e);
  }
}
