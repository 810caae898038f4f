import { decodeWaitStatus } from '../../../trace/wait-status.js';
import { monotonicToIso } from '../../../trace/now.js';
import type { TraceEvent } from '../../../trace/types.js';
import type { ProcEvent } from './proc-event.js';
import { isExecShim } from '../exec-shim.js';
import {
  cgroupFileNames,
  inCgroup,
  readExecInfo,
  readPidNs,
  readStat,
  type ExecInfo,
  type ProcStat,
} from './proc-read.js';

type ExecEvent = Extract<ProcEvent, { kind: 'exec' }>;

/** How the filter looks at /proc (tests substitute a fake host). */
export interface ProcReader {
  execInfo(pid: number): ExecInfo;
  stat(pid: number): ProcStat | undefined;
  inCgroup(pid: number, cgroupName: string): boolean;
  pidNs(pid: number): string | null;
}

export const hostProc: ProcReader = { execInfo: readExecInfo, stat: readStat, inCgroup, pidNs: readPidNs };

export interface FilterTarget {
  readonly id: number;
  readonly label: string;
  readonly initPid: number;
  readonly cgroupName: string | undefined;
  /** Adopt a process outside the tree at its first exec inside the cgroup (see TraceTarget.joiners). */
  readonly joiners?: boolean;
}

interface Tracked {
  readonly target: FilterTarget;
  readonly ppid: number | null;
  command: string | null;
  /**
   * Part of corral's way in (`corral exec`): a joiner and what it forks, until the user's command
   * is exec'd inside the sandbox. Nothing of it is reported: the trace shows what ran in the
   * sandbox, not corral's plumbing around it.
   */
  entering?: boolean;
  /** Threads it started that have not ended, besides its main one (the proc connector tells). */
  threads?: number;
  /** Its main thread ended while other threads ran on: the process ends with the last of them. */
  ended?: Extract<ProcEvent, { kind: 'exit' }>;
}

export interface Routed {
  readonly id: number;
  readonly event: TraceEvent;
}

/**
 * Decides, for every process event on the host, whether it belongs to a traced sandbox. The
 * proc connector reports the whole host, so the common case (not ours) must cost one Map lookup.
 * Membership comes from the process tree: a sandbox's init and everything forked from it. After
 * events were lost the tree may have holes (a missed exit lets a pid be reused by the host), so
 * from then on membership is also confirmed through the cgroup, or the parent chain.
 */
export class SandboxFilter {
  private readonly tracked = new Map<number, Tracked>();
  private readonly targets = new Map<number, FilterTarget>();
  /** Each target's pid namespace, read from its init: a joiner outside it is still entering. */
  private readonly namespaces = new Map<number, string | null>();
  private degraded = false;
  /** Targets that adopt processes joining their cgroup: while any exists, host execs cost a read. */
  private joinable = 0;

  constructor(private readonly proc: ProcReader = hostProc) {}

  /** Starts tracing a sandbox; processes already in it (besides its init) are reported as attached. */
  add(target: FilterTarget, existing: readonly number[] = []): Routed[] {
    this.targets.set(target.id, target);
    this.namespaces.set(target.id, this.proc.pidNs(target.initPid));
    if (target.joiners && target.cgroupName) this.joinable++;
    const initStat = this.proc.stat(target.initPid);
    const initCommand = this.proc.execInfo(target.initPid).command;
    this.tracked.set(target.initPid, { target, ppid: initStat?.ppid ?? null, command: initCommand });
    const out: Routed[] = [];
    for (const pid of existing) {
      if (pid === target.initPid || this.tracked.has(pid)) continue;
      const info = this.proc.execInfo(pid);
      const ppid = this.proc.stat(pid)?.ppid ?? null;
      this.tracked.set(pid, { target, ppid, command: info.command });
      const timestamp = new Date().toISOString();
      out.push({
        id: target.id,
        event: { type: 'exec', timestamp, pid, ppid, sandbox: target.label, ...info, attached: true },
      });
    }
    return out;
  }

  remove(id: number): void {
    const target = this.targets.get(id);
    if (target?.joiners && target.cgroupName) this.joinable--;
    this.targets.delete(id);
    this.namespaces.delete(id);
    for (const [pid, t] of this.tracked) if (t.target.id === id) this.tracked.delete(pid);
  }

  get size(): number {
    return this.targets.size;
  }

  /** The target registered as `id`, while it is. */
  target(id: number): FilterTarget | undefined {
    return this.targets.get(id);
  }

  /** Whether some target still adopts processes joining the cgroup called `name`. */
  joins(name: string): boolean {
    for (const t of this.targets.values()) if (t.joiners && t.cgroupName === name) return true;
    return false;
  }

  /** The kernel dropped events: every sandbox is told, and membership is confirmed from now on. */
  lost(reason: string): Routed[] {
    this.degraded = true;
    const timestamp = new Date().toISOString();
    return [...this.targets.values()].map((t) => ({
      id: t.id,
      event: { type: 'lost', timestamp, sandbox: t.label, reason },
    }));
  }

  handle(ev: ProcEvent): Routed | undefined {
    switch (ev.kind) {
      case 'fork': {
        if (ev.childPid !== ev.childTgid) {
          // A thread: counted, so the main thread's exit is not taken for the process's.
          const t = this.tracked.get(ev.childTgid);
          if (t) t.threads = (t.threads ?? 0) + 1;
          return undefined;
        }
        // A sandbox's process that forks with CLONE_PARENT gives the child its own parent,
        // which may be outside the sandbox: where the capture says who forked, that decides.
        const forker =
          ev.forkerTgid !== undefined && ev.forkerTgid !== ev.parentTgid ? ev.forkerTgid : undefined;
        const parent = (forker !== undefined ? this.member(forker) : undefined) ?? this.member(ev.parentTgid);
        if (!parent) return undefined;
        const child: Tracked = {
          target: parent.target,
          ppid: ev.parentTgid,
          command: parent.command,
          ...(parent.entering && { entering: true }),
        };
        this.tracked.set(ev.childTgid, child);
        if (child.entering) return undefined;
        return this.route(child, {
          type: 'fork',
          timestamp: monotonicToIso(ev.timestampNs),
          pid: ev.childTgid,
          ppid: ev.parentTgid,
          sandbox: child.target.label,
        });
      }
      case 'exec': {
        const t = this.member(ev.tgid) ?? this.adopt(ev);
        if (!t) return undefined;
        // Another thread exec'd: the kernel ended every other thread, the main one too, and the
        // process goes on as this one.
        t.threads = 0;
        delete t.ended;
        const info = ev.info ?? this.proc.execInfo(ev.tgid);
        t.command = info.command;
        if (t.entering && this.stillEntering(ev, t, info)) return undefined;
        return this.route(t, {
          type: 'exec',
          timestamp: monotonicToIso(ev.timestampNs),
          pid: ev.tgid,
          ppid: t.ppid,
          sandbox: t.target.label,
          ...info,
        });
      }
      case 'exit': {
        const t = this.tracked.get(ev.tgid);
        if (!t) return undefined;
        if (ev.pid !== ev.tgid) {
          // A thread ended; the last one of a process whose main thread is gone ends it, with
          // its own status (after exit_group every thread has the group's).
          t.threads = Math.max(0, (t.threads ?? 0) - 1);
          if (!t.ended || t.threads > 0) return undefined;
          return this.exited(t, { ...ev, pid: ev.tgid, parentTgid: ev.parentTgid ?? t.ended.parentTgid });
        }
        if ((t.threads ?? 0) > 0) {
          t.ended = ev;
          return undefined;
        }
        return this.exited(t, ev);
      }
      default:
        return undefined;
    }
  }

  private exited(t: Tracked, ev: Extract<ProcEvent, { kind: 'exit' }>): Routed | undefined {
    this.tracked.delete(ev.tgid);
    if (t.entering) return undefined;
    return this.route(t, {
      type: 'exit',
      timestamp: monotonicToIso(ev.timestampNs),
      pid: ev.tgid,
      ppid: ev.parentTgid ?? t.ppid,
      sandbox: t.target.label,
      status: ev.exitCode,
      ...decodeWaitStatus(ev.exitCode),
      command: t.command,
    });
  }

  private route(t: Tracked, event: TraceEvent): Routed {
    return { id: t.target.id, event };
  }

  /** A tracked pid, re-confirmed when events were lost (its pid may have been reused). */
  private member(pid: number): Tracked | undefined {
    const t = this.tracked.get(pid);
    if (!t || !this.degraded || this.confirm(pid, t.target)) return t;
    this.tracked.delete(pid);
    return undefined;
  }

  /**
   * A process that execs in a sandbox's cgroup without being in its tree: one whose fork was
   * missed (after lost events), or one that joined the cgroup from outside (`corral exec` moves
   * its first process in, then execs the entry into the namespaces), for targets that want those.
   */
  private adopt(ev: ExecEvent): Tracked | undefined {
    if (!this.degraded && this.joinable === 0) return undefined;
    const pid = ev.tgid;
    for (const target of this.targets.values()) {
      if (!target.cgroupName || !(this.degraded || target.joiners)) continue;
      // Where the capture looked at the exec, its view is used: by now the process may be gone.
      const member =
        ev.cgroup !== undefined
          ? ev.cgroup !== null && cgroupFileNames(ev.cgroup, target.cgroupName)
          : this.proc.inCgroup(pid, target.cgroupName);
      if (!member) continue;
      // A process whose fork was missed is already in the sandbox's pid namespace; corral exec's
      // chain joins the cgroup first, on the host side of that namespace.
      const entering = this.pidNsAt(ev) !== this.namespaces.get(target.id);
      const t: Tracked = {
        target,
        ppid: this.proc.stat(pid)?.ppid ?? null,
        command: null,
        ...(entering && { entering: true }),
      };
      this.tracked.set(pid, t);
      return t;
    }
    return undefined;
  }

  /**
   * Whether this exec of an entering process is still corral's plumbing: a program outside the
   * sandbox's pid namespace (prlimit, setpriv, nsenter), the nested bubblewrap that loads the
   * container's syscall filter, or the status shell. The first exec past those is the user's
   * command, and from there on everything is reported.
   */
  private stillEntering(ev: ExecEvent, t: Tracked, info: ExecInfo): boolean {
    if (this.pidNsAt(ev) !== this.namespaces.get(t.target.id)) return true;
    if (info.exe?.endsWith('/bwrap') && info.args?.includes('--add-seccomp-fd')) return true;
    if (isExecShim(info.args)) {
      t.entering = false; // its next exec is the user's command
      return true;
    }
    t.entering = false;
    return false;
  }

  private pidNsAt(ev: ExecEvent): string | null {
    return ev.pidNs !== undefined ? ev.pidNs : this.proc.pidNs(ev.tgid);
  }

  private confirm(pid: number, target: FilterTarget): boolean {
    if (target.cgroupName) return this.proc.inCgroup(pid, target.cgroupName);
    let p: number | undefined = pid;
    for (let i = 0; i < 64 && p !== undefined && p > 1; i++) {
      if (p === target.initPid) return true;
      p = this.proc.stat(p)?.ppid;
    }
    return false;
  }
}
