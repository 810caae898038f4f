import type { ProcReader } from '../../src/platform/linux/trace/sandbox-filter.js';

export interface FakeProcess {
  ppid: number;
  argv: string[] | null;
  comm?: string;
  start?: string;
  cwd?: string;
  exe?: string;
  cgroup?: string;
  /** Its pid namespace; default `host`. */
  pidns?: string;
}

/** An in-memory /proc: tests add, change and remove processes; `reads` counts argv and cgroup reads. */
export class FakeProc implements ProcReader {
  readonly procs = new Map<number, FakeProcess>();
  reads = 0;

  set(pid: number, p: FakeProcess): this {
    this.procs.set(pid, p);
    return this;
  }

  execInfo(pid: number) {
    this.reads++;
    const p = this.procs.get(pid);
    if (!p) return { command: null, args: null, argv: 'none' as const, cwd: null, exe: null };
    if (!p.argv) return { command: p.comm ?? null, args: null, argv: 'none' as const, cwd: null, exe: null };
    return {
      command: p.argv[0] ?? null,
      args: p.argv.slice(1),
      argv: 'full' as const,
      cwd: p.cwd ?? '/',
      exe: p.exe ?? `/usr/bin/${p.argv[0]}`,
    };
  }

  stat(pid: number) {
    const p = this.procs.get(pid);
    return p ? { ppid: p.ppid, startTime: p.start ?? '1' } : undefined;
  }

  pidNs(pid: number): string | null {
    const p = this.procs.get(pid);
    return p ? (p.pidns ?? 'host') : null;
  }

  inCgroup(pid: number, name: string): boolean {
    this.reads++;
    return this.procs.get(pid)?.cgroup === name;
  }
}
