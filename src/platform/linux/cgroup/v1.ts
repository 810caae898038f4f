import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readKeyed, readNumber, readPids, removeDir, write } from './fs.js';
import type {
  AppliedLimits,
  Cgroup,
  CgroupController,
  CgroupDriver,
  CgroupLimits,
  CgroupStats,
} from './types.js';

/** v1 hierarchies corral uses; cpuacct gives the user/system split that cpu alone lacks. */
export type V1Hierarchy = 'memory' | 'cpu' | 'cpuacct' | 'pids';

export interface V1Options {
  /** Mount point of each hierarchy (co-mounted ones share a path, e.g. cpu,cpuacct). */
  readonly mounts: Partial<Record<V1Hierarchy, string>>;
  /** Sub-path under each hierarchy where sandbox cgroups live. Default: `corral`. */
  readonly parent?: string;
  readonly signal?: (pid: number, signal: NodeJS.Signals) => void;
}

const CFS_PERIOD_US = 100_000;

/** cgroup v1: one directory per hierarchy, limits written to the legacy file names. */
export class CgroupV1Driver implements CgroupDriver {
  readonly version = 'v1';
  readonly controllers: ReadonlySet<CgroupController>;
  readonly base: string;
  private readonly dirs: Partial<Record<V1Hierarchy, string>>;

  constructor(private readonly options: V1Options) {
    const parent = options.parent ?? 'corral';
    this.dirs = {};
    for (const [h, mount] of Object.entries(options.mounts) as [V1Hierarchy, string][]) {
      this.dirs[h] = path.join(mount, parent);
    }
    const c = new Set<CgroupController>();
    if (this.dirs.memory) c.add('memory');
    if (this.dirs.cpu) c.add('cpu');
    if (this.dirs.pids) c.add('pids');
    this.controllers = c;
    this.base = this.dirs.memory ?? this.dirs.cpu ?? this.dirs.pids ?? parent;
  }

  create(name: string): Cgroup {
    const paths = this.pathsFor(name);
    const made: string[] = [];
    try {
      for (const dir of new Set(Object.values(paths))) {
        mkdirSync(path.dirname(dir), { recursive: true });
        mkdirSync(dir); // throws EEXIST: names are unique per run
        made.push(dir);
      }
    } catch (err) {
      for (const dir of made.reverse()) void removeDir(dir, () => undefined, 0).catch(() => undefined);
      throw err;
    }
    return new CgroupV1(name, paths, this.options.signal ?? defaultSignal);
  }

  open(name: string): Cgroup | undefined {
    const paths = this.pathsFor(name);
    if (!Object.values(paths).some((d) => existsSync(d))) return undefined;
    return new CgroupV1(name, paths, this.options.signal ?? defaultSignal);
  }

  list(): string[] {
    const names = new Set<string>();
    for (const dir of new Set(Object.values(this.dirs))) {
      try {
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) names.add(e.name);
      } catch {
        // The parent does not exist until the first sandbox is created.
      }
    }
    return [...names];
  }

  private pathsFor(name: string): Partial<Record<V1Hierarchy, string>> {
    const out: Partial<Record<V1Hierarchy, string>> = {};
    for (const [h, dir] of Object.entries(this.dirs) as [V1Hierarchy, string][])
      out[h] = path.join(dir, name);
    return out;
  }
}

class CgroupV1 implements Cgroup {
  readonly version = 'v1';
  readonly location: string;

  constructor(
    readonly name: string,
    private readonly paths: Partial<Record<V1Hierarchy, string>>,
    private readonly sendSignal: (pid: number, signal: NodeJS.Signals) => void,
  ) {
    this.location = Object.entries(paths)
      .map(([h, p]) => `${h}:${p}`)
      .join(' ');
  }

  apply(limits: CgroupLimits): AppliedLimits {
    const applied: AppliedLimits = {};
    const { memory, cpu, pids } = this.paths;
    if (limits.memoryBytes !== undefined && memory) {
      write(path.join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // With swap on, the limit alone lets a process page out past it; memsw caps memory+swap.
      const memsw = path.join(memory, 'memory.memsw.limit_in_bytes');
      if (existsSync(memsw)) write(memsw, String(limits.memoryBytes));
      applied.memory = 'cgroup-v1 memory.limit_in_bytes';
    }
    if (limits.cpus !== undefined && cpu) {
      write(path.join(cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
      write(
        path.join(cpu, 'cpu.cfs_quota_us'),
        String(Math.max(1000, Math.round(limits.cpus * CFS_PERIOD_US))),
      );
      applied.cpus = 'cgroup-v1 cpu.cfs_quota_us';
    }
    if (limits.pids !== undefined && pids) {
      write(path.join(pids, 'pids.max'), String(limits.pids));
      applied.pids = 'cgroup-v1 pids.max';
    }
    return applied;
  }

  addProcess(pid: number): void {
    for (const dir of new Set(Object.values(this.paths))) write(path.join(dir, 'cgroup.procs'), String(pid));
  }

  procsFiles(): string[] {
    return [...new Set(Object.values(this.paths))].map((dir) => path.join(dir, 'cgroup.procs'));
  }

  procs(): number[] {
    const all = new Set<number>();
    for (const dir of new Set(Object.values(this.paths)))
      for (const p of readPids(path.join(dir, 'cgroup.procs'))) all.add(p);
    return [...all];
  }

  stats(): CgroupStats {
    const { memory, cpuacct, pids } = this.paths;
    const oom = memory ? readKeyed(path.join(memory, 'memory.oom_control')) : new Map<string, number>();
    const user = cpuacct ? readNumber(path.join(cpuacct, 'cpuacct.usage_user')) : null;
    const sys = cpuacct ? readNumber(path.join(cpuacct, 'cpuacct.usage_sys')) : null;
    const usage = cpuacct ? readNumber(path.join(cpuacct, 'cpuacct.usage')) : null;
    const limit = memory ? readNumber(path.join(memory, 'memory.limit_in_bytes')) : null;
    return {
      memoryCurrentBytes: memory ? readNumber(path.join(memory, 'memory.usage_in_bytes')) : null,
      memoryPeakBytes: memory ? readNumber(path.join(memory, 'memory.max_usage_in_bytes')) : null,
      // v1 reports "no limit" as a huge page-aligned number.
      memoryLimitBytes: limit !== null && limit < 2 ** 60 ? limit : null,
      cpuUserUs: user === null ? null : Math.round(user / 1000),
      cpuSystemUs: sys === null ? null : Math.round(sys / 1000),
      cpuUsageUs: usage === null ? null : Math.round(usage / 1000),
      pidsCurrent: pids ? readNumber(path.join(pids, 'pids.current')) : null,
      oomKills: oom.get('oom_kill') ?? 0,
    };
  }

  signalAll(signal: NodeJS.Signals): void {
    for (const pid of this.procs()) this.sendSignal(pid, signal);
  }

  async destroy(): Promise<void> {
    // v1 has no cgroup.kill: kill what is listed until the directories can be removed.
    for (const dir of new Set(Object.values(this.paths)))
      await removeDir(dir, () => this.signalAll('SIGKILL'));
  }
}

function defaultSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
