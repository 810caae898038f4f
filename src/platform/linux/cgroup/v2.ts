import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readKeyed, readNumber, readPids, readText, removeDir, write } from './fs.js';
import type {
  AppliedLimits,
  Cgroup,
  CgroupController,
  CgroupDriver,
  CgroupLimits,
  CgroupStats,
} from './types.js';

export interface V2Options {
  /**
   * The cgroup under which corral may create children: `/sys/fs/cgroup` as root, or a subtree
   * delegated to the user (e.g. `.../user@1000.service`).
   */
  readonly delegated: string;
  /** Name of corral's own directory under `delegated`. Default: `corral`. */
  readonly parent?: string;
  readonly signal?: (pid: number, signal: NodeJS.Signals) => void;
}

const CFS_PERIOD_US = 100_000;
const WANTED: CgroupController[] = ['memory', 'cpu', 'pids'];

/** cgroup v2 (unified hierarchy). */
export class CgroupV2Driver implements CgroupDriver {
  readonly version = 'v2';
  readonly controllers: ReadonlySet<CgroupController>;
  readonly base: string;
  private prepared = false;

  constructor(private readonly options: V2Options) {
    this.base = path.join(options.delegated, options.parent ?? 'corral');
    const available = (readText(path.join(options.delegated, 'cgroup.controllers')) ?? '').split(/\s+/);
    this.controllers = new Set(WANTED.filter((c) => available.includes(c)));
  }

  create(name: string): Cgroup {
    this.prepare();
    const dir = path.join(this.base, name);
    mkdirSync(dir);
    return new CgroupV2(name, dir, this.options.signal ?? defaultSignal);
  }

  open(name: string): Cgroup | undefined {
    const dir = path.join(this.base, name);
    return existsSync(dir) ? new CgroupV2(name, dir, this.options.signal ?? defaultSignal) : undefined;
  }

  list(): string[] {
    try {
      return readdirSync(this.base, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return [];
    }
  }

  /**
   * Controllers must be enabled in every ancestor's cgroup.subtree_control before a child can
   * use them. The "no internal processes" rule means corral's own directory holds no processes,
   * only the per-sandbox children.
   */
  private prepare(): void {
    if (this.prepared) return;
    const enable = [...this.controllers].map((c) => `+${c}`).join(' ');
    if (enable) ensureEnabled(this.options.delegated, enable);
    mkdirSync(this.base, { recursive: true });
    if (enable) ensureEnabled(this.base, enable);
    this.prepared = true;
  }
}

function ensureEnabled(dir: string, enable: string): void {
  const file = path.join(dir, 'cgroup.subtree_control');
  const current = (readText(file) ?? '').split(/\s+/);
  const missing = enable.split(' ').filter((c) => !current.includes(c.slice(1)));
  if (missing.length > 0) write(file, missing.join(' '));
}

class CgroupV2 implements Cgroup {
  readonly version = 'v2';
  readonly location: string;

  constructor(
    readonly name: string,
    private readonly dir: string,
    private readonly sendSignal: (pid: number, signal: NodeJS.Signals) => void,
  ) {
    this.location = dir;
  }

  apply(limits: CgroupLimits): AppliedLimits {
    const applied: AppliedLimits = {};
    const f = (n: string) => path.join(this.dir, n);
    if (limits.memoryBytes !== undefined) {
      write(f('memory.max'), String(limits.memoryBytes));
      // Without this, pages beyond the limit go to swap instead of triggering the OOM killer.
      if (existsSync(f('memory.swap.max'))) write(f('memory.swap.max'), '0');
      // The whole sandbox dies on OOM, not just the largest process: a half-killed tree lies.
      if (existsSync(f('memory.oom.group'))) write(f('memory.oom.group'), '1');
      applied.memory = 'cgroup-v2 memory.max';
    }
    if (limits.cpus !== undefined) {
      write(f('cpu.max'), `${Math.max(1000, Math.round(limits.cpus * CFS_PERIOD_US))} ${CFS_PERIOD_US}`);
      applied.cpus = 'cgroup-v2 cpu.max';
    }
    if (limits.pids !== undefined) {
      write(f('pids.max'), String(limits.pids));
      applied.pids = 'cgroup-v2 pids.max';
    }
    return applied;
  }

  addProcess(pid: number): void {
    write(path.join(this.dir, 'cgroup.procs'), String(pid));
  }

  procsFiles(): string[] {
    return [path.join(this.dir, 'cgroup.procs')];
  }

  procs(): number[] {
    return readPids(path.join(this.dir, 'cgroup.procs'));
  }

  stats(): CgroupStats {
    const f = (n: string) => path.join(this.dir, n);
    const cpu = readKeyed(f('cpu.stat'));
    const events = readKeyed(f('memory.events'));
    const max = readText(f('memory.max'))?.trim();
    return {
      memoryCurrentBytes: readNumber(f('memory.current')),
      memoryPeakBytes: readNumber(f('memory.peak')),
      memoryLimitBytes: max && max !== 'max' ? Number(max) : null,
      cpuUserUs: cpu.get('user_usec') ?? null,
      cpuSystemUs: cpu.get('system_usec') ?? null,
      cpuUsageUs: cpu.get('usage_usec') ?? null,
      pidsCurrent: readNumber(f('pids.current')),
      oomKills: events.get('oom_kill') ?? 0,
    };
  }

  signalAll(signal: NodeJS.Signals): void {
    for (const pid of this.procs()) this.sendSignal(pid, signal);
  }

  async destroy(): Promise<void> {
    await removeDir(this.dir, () => this.kill());
  }

  private kill(): void {
    // cgroup.kill (Linux 5.14+) kills every process atomically, including ones forking right now.
    const killFile = path.join(this.dir, 'cgroup.kill');
    if (existsSync(killFile)) {
      try {
        write(killFile, '1');
        return;
      } catch {
        // Fall through to signalling each process.
      }
    }
    this.signalAll('SIGKILL');
  }
}

function defaultSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
