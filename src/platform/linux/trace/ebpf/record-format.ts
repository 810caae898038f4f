/**
 * What the exec probe's programs write into their ring buffer, and how the capture finds its
 * maps. Shared by the program generator (probe-programs.ts) and the capture that reads the
 * records (capture-script.ts), which are generated from these numbers so the two cannot drift.
 *
 * Every record starts with `kind u32 | word u32 | timestamp_ns u64` (CLOCK_MONOTONIC, as the
 * proc connector's); the word is the flags of an exec, the forking process's tgid for a fork.
 * Then, little-endian:
 *   fork (32 bytes):  parent_pid u32 | parent_tgid u32 | child_pid u32 | child_tgid u32
 *                     (the parent is the child's real parent, as the kernel reports it)
 *   exit (32 bytes):  tgid u32 | tgid u32 | exit_code u32 (the wait status) | parent_tgid u32
 *                     (one per process, when its last thread has exited)
 *   exec (64 + n):    pid u32 | tgid u32 | pid_ns_inum u32 | cgroup_tag u32
 *                     | argv_len u64 (arg_end - arg_start) | argv_copied u32
 *                     | exe_bytes u16 | cwd_bytes u16 | comm [16] | (the programs' own cursor) u64
 *                     then exe, then cwd: path components leaf first, each NUL-terminated
 *                     then argv_copied bytes of the argument area (NUL-separated, as /proc's cmdline)
 */
export const Kind = { fork: 1, exec: 2, exit: 3 } as const;

export const ExecFlag = {
  /** The argument area is longer than ARGV_CAP: only its start was copied. */
  argvCut: 1 << 0,
  /** Reading the argument area failed. */
  argvFault: 1 << 1,
  /** The walk up from the executable did not reach a root (too deep, too long, unreadable). */
  exeCut: 1 << 2,
  cwdCut: 1 << 3,
  /** The executable's or the directory's dentry is unlinked: /proc would add ` (deleted)`. */
  exeDeleted: 1 << 4,
  cwdDeleted: 1 << 5,
  /** No mm (never seen for a user process at exec; kept so a surprise is visible). */
  noMm: 1 << 6,
} as const;

export const Exec = {
  pid: 16,
  tgid: 20,
  pidNs: 24,
  cgroupTag: 28,
  argvLen: 32,
  argvCopied: 40,
  exeBytes: 44,
  cwdBytes: 46,
  comm: 48,
  /** Where the path walks keep their write offset (see pathWalk in probe-programs.ts). */
  cursor: 64,
  header: 72,
} as const;

/** Bytes of path components (exe and cwd together) a record may carry. */
export const PATH_BYTES = 8192;
/** The longest component read at once: NAME_MAX and its NUL. */
export const NAME_BYTES = 256;
/** Bytes of the argument area copied at exec; longer ones are completed from /proc if possible. */
export const ARGV_CAP = 32768;
/** Components (or mount crossings) walked per path before giving up. */
export const PATH_DEPTH = 64;
/** One record under construction per CPU: the header, then paths, then argv. */
export const SCRATCH_BYTES = Exec.header + PATH_BYTES + ARGV_CAP;

/** The probe's maps, by index (the programs' ld_imm64 instructions name them by it). */
export const MapIndex = { events: 0, followed: 1, cgroups: 2, config: 3, stats: 4, scratch: 5 } as const;

/** Bits of config[0]. */
export const ConfigFlag = {
  /** Record every process on the host (the tree may have holes: corral decides from /proc). */
  recordAll: 1,
  /** Some cgroup is followed: an exec outside the tree is checked against the cgroups map. */
  cgroups: 2,
} as const;

/** Counters in stats[]: records the ring had no room for, and pids the followed map refused. */
export const Stat = { ringFull: 0, followFull: 1 } as const;

/** cgroups-map key for the cgroup v2 hierarchy (v1 hierarchies use their subsystem's id). */
export const DEFAULT_HIERARCHY = 255;

/**
 * Size of the ring buffer, bytes: a power of two, read every flush interval. Kernel memory, held
 * while the capture runs (one per corral process, one per traced container's recorder): 2 MiB
 * hold ~7000 typical exec records, a tenth of a second of 70 000 execs a second. What does not
 * fit is counted and reported as lost.
 */
export const RING_BYTES = 2 << 20;
/**
 * Processes followed at once across the traced sandboxes of one capture. Preallocated (~80 bytes
 * each): tracing programs must not allocate on kernels before 6.1. A full map is reported as
 * lost events, after which everything passes and corral sorts it out from /proc.
 */
export const FOLLOWED_MAX = 16384;
export const CGROUPS_MAX = 1024;
