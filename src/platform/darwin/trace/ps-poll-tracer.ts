import { execFile } from 'node:child_process';
import { SnapshotDiffer } from '../../../trace/snapshot-diff.js';
import { TracerCore } from '../../../trace/tracer-core.js';
import type { TraceTarget } from '../../../trace/types.js';
import { PS_ARGS, parsePs, rowToSnapshot, subtree } from './ps-parse.js';

export interface PsPollOptions {
  /** How often to run ps, in ms. Default: 250 (one ps run costs a few ms on macOS). */
  readonly intervalMs?: number;
  /** Runs ps and resolves with its output (tests replay recorded output). */
  readonly ps?: () => Promise<string>;
}

function runPs(): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('/bin/ps', PS_ARGS, { env: { LC_ALL: 'C' }, maxBuffer: 64 << 20 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
}

/**
 * macOS: the Endpoint Security framework needs an Apple entitlement, so the sandbox's process
 * tree is polled through ps. Processes shorter than the interval are missed, arguments are
 * rebuilt from a space-joined line, cwd and exit statuses are unknown.
 */
export class PsPollTracer extends TracerCore {
  readonly backend = 'ps-poll';
  private timer: NodeJS.Timeout | undefined;
  private differ: SnapshotDiffer | undefined;
  private target: TraceTarget | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: PsPollOptions = {}) {
    super();
  }

  protected async open(target: TraceTarget, label: string): Promise<void> {
    this.target = target;
    this.differ = new SnapshotDiffer(label, target.initPid);
    await this.scan(true);
    this.timer = setInterval(() => void this.scan(false), this.options.intervalMs ?? 250);
    this.timer.unref();
  }

  protected async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.scan(false);
    this.target = undefined;
  }

  private scan(first: boolean): Promise<void> {
    // A slow ps must not pile up runs.
    if (this.running) return this.running;
    const p = this.scanOnce(first).finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async scanOnce(first: boolean): Promise<void> {
    const t = this.target;
    if (!t || !this.differ) return;
    let output: string;
    try {
      output = await (this.options.ps ?? runPs)();
    } catch {
      return; // ps failed this once (fork pressure): the next tick tries again
    }
    const rows = subtree(parsePs(output), t.initPid);
    for (const e of this.differ.diff(rows.map(rowToSnapshot), first)) this.emit(e);
  }
}
