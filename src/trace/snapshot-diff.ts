import type { ArgvCapture, TraceEvent } from './types.js';

/** One process as a polling backend saw it. */
export interface ProcessSnapshot {
  readonly pid: number;
  readonly ppid: number | null;
  /** Anything that changes when the pid is reused (start time). */
  readonly start: string;
  readonly command: string | null;
  readonly args: readonly string[] | null;
  readonly argv: ArgvCapture;
  readonly cwd: string | null;
  readonly exe: string | null;
}

interface Known {
  readonly start: string;
  readonly ppid: number | null;
  signature: string;
  command: string | null;
}

const signatureOf = (s: ProcessSnapshot) =>
  `${s.exe ?? ''}\0${s.command ?? ''}\0${(s.args ?? []).join('\0')}`;

/**
 * Turns successive snapshots of a sandbox's processes into events, for the polling backends: a
 * new pid is a fork and, unless it still runs its parent's program, an exec; a changed command
 * line under the same pid is an exec; a pid that vanished (or was reused) is an exit whose status polling cannot know.
 */
export class SnapshotDiffer {
  private readonly known = new Map<number, Known>();

  constructor(
    private readonly label: string,
    private readonly initPid: number,
  ) {}

  /**
   * `first`: processes present at the start are reported as attached execs, except the init,
   * which is the sandbox's own container process rather than something the sandbox ran.
   */
  diff(
    snapshot: readonly ProcessSnapshot[],
    first: boolean,
    timestamp = new Date().toISOString(),
  ): TraceEvent[] {
    const out: TraceEvent[] = [];
    const seen = new Set<number>();
    for (const s of snapshot) {
      seen.add(s.pid);
      const old = this.known.get(s.pid);
      const signature = signatureOf(s);
      if (old && old.start === s.start) {
        if (old.signature !== signature && s.argv !== 'none') {
          old.signature = signature;
          old.command = s.command;
          out.push(this.exec(s, old.ppid, timestamp, false));
        }
        continue;
      }
      if (old) out.push(this.exit(s.pid, old, timestamp));
      this.known.set(s.pid, { start: s.start, ppid: s.ppid, signature, command: s.command });
      if (first && s.pid === this.initPid) continue;
      if (!first) out.push({ type: 'fork', timestamp, pid: s.pid, ppid: s.ppid, sandbox: this.label });
      // A child still running its parent's program has forked but not exec'd (a subshell).
      const parent = s.ppid === null ? undefined : this.known.get(s.ppid);
      if (!first && parent?.signature === signature) continue;
      out.push(this.exec(s, s.ppid, timestamp, first));
    }
    for (const [pid, k] of this.known) if (!seen.has(pid)) out.push(this.exit(pid, k, timestamp));
    return out;
  }

  private exec(s: ProcessSnapshot, ppid: number | null, timestamp: string, attached: boolean): TraceEvent {
    return {
      type: 'exec',
      timestamp,
      pid: s.pid,
      ppid,
      sandbox: this.label,
      command: s.command,
      args: s.args,
      cwd: s.cwd,
      exe: s.exe,
      argv: s.argv,
      ...(attached && { attached: true as const }),
    };
  }

  private exit(pid: number, k: Known, timestamp: string): TraceEvent {
    this.known.delete(pid);
    return {
      type: 'exit',
      timestamp,
      pid,
      ppid: k.ppid,
      sandbox: this.label,
      status: null,
      exitCode: null,
      signal: null,
      coreDumped: false,
      command: k.command,
    };
  }
}
