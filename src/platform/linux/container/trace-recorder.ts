import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LaunchError, UnsupportedError } from '../../../errors.js';
import type { ProcessLauncher } from '../../../process/types.js';
import type { RecorderRequest } from '../../../runtime/driver.js';
import type { ContainerTraceConfig, ProcRef, RecorderRecord } from '../../../runtime/types.js';
import { selectTracer } from '../../../trace/factory.js';
import { startRecorderProcess } from '../../../trace/recorder-process.js';
import { StubTracer } from '../../../trace/stub-tracer.js';
import { identify, isAlive } from './proc-identity.js';

/** Fails at create, with the reason and the fix, when no tracer (or not the one asked for) works here. */
export async function checkContainerTrace(trace: ContainerTraceConfig): Promise<void> {
  const { tracer } = await selectTracer(trace.backend === undefined ? {} : { backend: trace.backend });
  if (tracer instanceof StubTracer)
    throw new UnsupportedError(`cannot trace containers on this host: ${tracer.reason}`, tracer.fix);
}

/**
 * Starts a run's recorder. It also adopts processes that join the container's cgroup from outside
 * (exec): they are not descendants of the init, but they are in its cgroup before their first
 * exec there, so one recorder per run sees them without a process per exec.
 */
export async function startContainerRecorder(req: RecorderRequest): Promise<RecorderRecord> {
  const started = await startRecorderProcess({
    target: {
      initPid: req.init.pid,
      ...(req.cgroup !== undefined && { cgroupName: req.cgroup, joiners: true }),
      sandbox: req.label,
    },
    file: req.file,
    append: true,
    ...(req.trace.backend !== undefined && { backend: req.trace.backend }),
  });
  const recorder = identify(started.pid);
  if (!recorder)
    throw new LaunchError('the trace recorder ended as soon as it had started', {
      pid: started.pid,
      file: req.file,
    });
  return { recorder, backend: started.backend, cgroup: req.cgroup ?? null };
}

/**
 * Stops a recorder whose container has ended: SIGTERM lets it take the last events from the
 * kernel and write its `end` record; SIGKILL after `graceMs` if it has not gone by then.
 */
export async function stopContainerRecorder(
  launcher: ProcessLauncher,
  recorder: ProcRef,
  graceMs = 2000,
): Promise<void> {
  if (!isAlive(recorder)) return;
  launcher.signal(recorder.pid, 'SIGTERM');
  for (const t0 = Date.now(); Date.now() - t0 < graceMs; await sleep(5)) if (!isAlive(recorder)) return;
  launcher.signal(recorder.pid, 'SIGKILL');
}

/**
 * Pids with `file` open for writing: a recorder corral was killed before recording. Readers
 * (someone's `corral trace -f`) are left alone.
 */
export function writersOf(file: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    if (fds.some((fd) => writes(entry, fd, file))) out.push(Number(entry));
  }
  return out;
}

function writes(pid: string, fd: string, file: string): boolean {
  try {
    if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== file) return false;
    // fdinfo's flags are octal; the access mode is the low two bits (0: read only).
    const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & 3) !== 0;
  } catch {
    return false;
  }
}
