import type { RunReason, RunResult, SandboxSpec } from '../../../src/index.js';
import { detectCgroups } from '../../../src/platform/linux/cgroup/detect.js';
import type { Runtime } from '../../../src/runtime/runtime.js';

/** How long a container attempt may run before the battery gives up on it. */
const WAIT_MS = 60_000;
let seq = 0;

/** A container an attempt ran in (still there, for the judge to look at the host first). */
export interface ContainerRun {
  readonly name: string;
  readonly result: RunResult;
}

/** The RunResult fields the judges read; the rest have no meaning for a container. */
function asResult(r: {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  reason: RunReason | 'unknown';
  stdout: string;
  stderr: string;
}): RunResult {
  return {
    exitCode: r.exitCode,
    signal: r.signal,
    reason: r.reason === 'unknown' ? 'signal' : r.reason,
    wallMs: 0,
    cpuUserMs: null,
    cpuSystemMs: null,
    peakMemoryBytes: null,
    limits: {},
    notEnforced: [],
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

async function logText(rt: Runtime, name: string, stream: 'stdout' | 'stderr'): Promise<string> {
  let text = '';
  for await (const l of rt.logs(name, { stream })) text += `${l.text}\n`;
  return text;
}

/** The attempt as a container's own command: create, start, wait for it, read its logs. */
export async function asContainerCommand(rt: Runtime, spec: SandboxSpec): Promise<ContainerRun> {
  const name = `esc-cmd-${++seq}`;
  await rt.create(name, spec);
  await rt.start(name);
  const outcome = await rt.wait(name, { signal: AbortSignal.timeout(WAIT_MS) });
  const [stdout, stderr] = await Promise.all([logText(rt, name, 'stdout'), logText(rt, name, 'stderr')]);
  return { name, result: asResult({ ...outcome, stdout, stderr }) };
}

/**
 * The attempt exec'd into a running container made from the same spec (its binds, limits and
 * workdir) whose own command only sleeps.
 */
export async function viaExec(rt: Runtime, spec: SandboxSpec): Promise<ContainerRun> {
  const name = `esc-exec-${++seq}`;
  await rt.create(name, { ...spec, command: ['sleep', '600'] });
  await rt.start(name);
  // exec reports a status, not a reason: a kill that came with an OOM kill in the container's
  // cgroup is a memory one, as `run` decides it.
  const cgroup = rt.inspect(name).cgroup;
  const driver = detectCgroups().driver;
  const ooms = () => (cgroup ? (driver?.open(cgroup)?.stats().oomKills ?? 0) : 0);
  const before = ooms();
  const r = await rt.exec(name, spec.command, {
    ...(spec.workdir !== undefined && { workdir: spec.workdir }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const killed = r.signal === 'SIGKILL' || r.exitCode === 137;
  const reason = killed && ooms() > before ? 'memory' : r.signal || killed ? 'signal' : 'exit';
  return { name, result: asResult({ ...r, reason }) };
}
