/** Limits a cgroup enforces. */
export interface CgroupLimits {
  readonly memoryBytes?: number;
  readonly cpus?: number;
  readonly pids?: number;
}

export type CgroupController = 'memory' | 'cpu' | 'pids';

/** Counters read from a cgroup; null where the kernel does not provide them. */
export interface CgroupStats {
  readonly memoryCurrentBytes: number | null;
  readonly memoryPeakBytes: number | null;
  readonly memoryLimitBytes: number | null;
  readonly cpuUserUs: number | null;
  readonly cpuSystemUs: number | null;
  readonly cpuUsageUs: number | null;
  readonly pidsCurrent: number | null;
  /** Processes the OOM killer has killed in this cgroup. */
  readonly oomKills: number;
}

/** How each limit was applied, e.g. `{ memory: 'cgroup-v1 memory.limit_in_bytes' }`. */
export type AppliedLimits = Partial<Record<'memory' | 'cpus' | 'pids', string>>;

/** One cgroup (v1: one directory per hierarchy; v2: one directory). */
export interface Cgroup {
  readonly version: 'v1' | 'v2';
  readonly name: string;
  /** Human-readable location, for messages and inspect output. */
  readonly location: string;
  /** Writes the limits; throws if the kernel refuses one. */
  apply(limits: CgroupLimits): AppliedLimits;
  /** Moves a process (and its future children) into the cgroup. */
  addProcess(pid: number): void;
  /** The cgroup.procs file(s) a process writes its pid to to join (exec into a container). */
  procsFiles(): string[];
  /** Pids of the processes in the cgroup (empty once it is gone). */
  procs(): number[];
  stats(): CgroupStats;
  /** Sends a signal to every process in the cgroup. */
  signalAll(signal: NodeJS.Signals): void;
  /** Kills every process and removes the directories. Safe to call twice. */
  destroy(): Promise<void>;
}

export interface CgroupDriver {
  readonly version: 'v1' | 'v2';
  /** Controllers this driver can use for sandboxes. */
  readonly controllers: ReadonlySet<CgroupController>;
  /** Where sandbox cgroups are created, for the capability report. */
  readonly base: string;
  /** Creates a fresh cgroup; throws if it exists already. */
  create(name: string): Cgroup;
  /** An existing cgroup by name, or undefined. */
  open(name: string): Cgroup | undefined;
  /** Names of the cgroups under the base. */
  list(): string[];
}
