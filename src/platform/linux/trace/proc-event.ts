import type { ExecInfo } from './proc-read.js';

/**
 * A process event from the kernel's proc connector, as the capture (capture-script.ts) reports
 * it. Events of other kinds (uid, gid, sid, comm, ptrace, coredump) are not reported.
 */
export type ProcEvent =
  | {
      kind: 'fork';
      timestampNs: bigint;
      parentPid: number;
      parentTgid: number;
      childPid: number;
      childTgid: number;
      /**
       * The process that forked, when the capture knows (eBPF): not the parent after
       * CLONE_PARENT, which makes the forker's own parent the child's.
       */
      forkerTgid?: number;
    }
  | {
      kind: 'exec';
      timestampNs: bigint;
      pid: number;
      tgid: number;
      /** What the process runs, read by the capture the moment the exec was reported. */
      info?: ExecInfo;
      /** Its pid namespace (/proc/PID/ns/pid) at that moment; null if it was already gone. */
      pidNs?: string | null;
      /** Its /proc/PID/cgroup at that moment; null if it was already gone. */
      cgroup?: string | null;
    }
  | {
      kind: 'exit';
      timestampNs: bigint;
      pid: number;
      tgid: number;
      /** A wait status: `code << 8 | signal`. */
      exitCode: number;
      /** Kernels before 4.18 do not send it. */
      parentTgid: number | null;
    };
