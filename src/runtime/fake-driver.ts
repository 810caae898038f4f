import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { UnsupportedError } from '../errors.js';
import { FakeLauncher, type FakeChild } from '../process/fake-launcher.js';
import type { LaunchRequest, LaunchedProcess } from '../process/types.js';
import type { SandboxUsage } from '../run/backend.js';
import type { ResolvedSpec } from '../spec/types.js';
import type {
  ContainerDriver,
  DriverExecOptions,
  DriverRun,
  DriverStartRequest,
  DriverStats,
  RecorderRequest,
} from './driver.js';
import { FakeRecorder } from './fake-recorder.js';
import type { ContainerPaths } from './paths.js';
import type { ContainerTraceConfig, ProcRef, RecorderRecord, RootfsRecord, RunRecord } from './types.js';

/** What a fake container's command can do: write lines, exit, react to signals. */
export interface FakeProgramIO {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  stdout(line: string): void;
  stderr(line: string): void;
  exit(code: number): void;
  /** Replaces the default reaction (exit 128+N) to every signal but SIGKILL. */
  onSignal(handler: (signal: NodeJS.Signals) => void): void;
}

export type FakeProgram = (io: FakeProgramIO) => void | Promise<void>;

export interface FakeDriverOptions {
  /** The container's command, played in memory. Default: print the command, then run until signalled. */
  readonly program?: FakeProgram;
  /** Output and exit code of `exec`. Default: prints the command, exit 0. */
  readonly exec?: (command: readonly string[]) => { stdout?: string; stderr?: string; exitCode?: number };
  /** Make start fail (like bwrap refusing the spec). */
  readonly failStart?: boolean;
  /** Why this fake host cannot trace (create --trace is then refused). Default: it can. */
  readonly traceUnavailable?: string;
}

const SIGNUM = constants.signals;

/**
 * The lifecycle runtime's OS layer played in memory, over FakeLauncher: containers are fake
 * processes that write to the real log files of a temporary data dir. It also counts what
 * would be left on a real host (processes, cgroups, mounts), so tests can demand zero.
 */
export class FakeContainerDriver implements ContainerDriver {
  readonly name = 'fake';
  readonly overlay = true;
  readonly launcher: FakeLauncher;
  /** cgroups created and not yet released. */
  readonly cgroups = new Set<string>();
  readonly mounts = new Set<string>();
  /** cgroups whose (fake) OOM killer fired. */
  readonly oom = new Set<string>();
  private readonly children = new Map<number, FakeChild>();
  /** Trace recorders, by the init pid of the run they record. */
  private readonly recorders = new Map<number, FakeRecorder>();
  private nextInit = 80_000_000;

  constructor(private readonly options: FakeDriverOptions = {}) {
    this.launcher = new FakeLauncher((req) => this.behaviour(req));
  }

  /** Fake pids (and this process) that are still running. */
  liveProcesses(): number[] {
    return [...this.children.keys()];
  }

  self(): ProcRef {
    return { pid: process.pid, start: '1' };
  }
  identify(pid: number): ProcRef | undefined {
    return this.alive({ pid, start: '1' }) ? { pid, start: '1' } : undefined;
  }
  alive(ref: ProcRef): boolean {
    if (ref.start !== '1') return false;
    // FakeLauncher knows a pid from launch until exit (signal 0 only asks).
    return ref.pid === process.pid || this.launcher.signal(ref.pid, 0);
  }
  makeFifo(file: string): Promise<void> {
    writeFileSync(file, '');
    return Promise.resolve();
  }
  prepareRootfs(image: { name: string; rootfs: string }, paths: ContainerPaths): Promise<RootfsRecord> {
    mkdirSync(paths.rootfs, { recursive: true });
    this.mounts.add(paths.rootfs);
    return Promise.resolve({ mode: 'overlay', path: paths.rootfs, image: image.name });
  }
  releaseRootfs(paths: ContainerPaths): Promise<void> {
    this.mounts.delete(paths.rootfs);
    return Promise.resolve();
  }
  mountsUnder(dir: string): string[] {
    return [...this.mounts].filter((m) => m === dir || m.startsWith(`${dir}/`));
  }

  async start(req: DriverStartRequest): Promise<DriverRun> {
    if (this.options.failStart) throw new Error('fake bwrap: setup failed');
    const init = this.nextInit++;
    this.cgroups.add(req.cgroupName);
    const p = this.launcher.launch({
      file: 'fake-bwrap',
      args: [...req.spec.command],
      env: req.spec.env,
      stdin: 'ignore',
      stdout: req.stdoutFd,
      stderr: req.stderrFd,
      detached: true,
    });
    const child = await this.childOf(p.pid);
    child.claimPid(init);
    this.children.set(init, child);
    const run = { bwrap: { pid: p.pid, start: '1' }, init: { pid: init, start: '1' } };
    await req.onReady({ ...run, cgroup: req.cgroupName, limits: {}, notEnforced: [] });
    this.play(child, req.paths, req.spec, init);
    return { ...run, cgroup: req.cgroupName, limits: {}, notEnforced: [] };
  }

  readExitCode(paths: ContainerPaths): number | undefined {
    return readExit(paths.status);
  }
  decodeExit(code: number | null) {
    if (code === null || code <= 128 || code > 192) return { exitCode: code, signal: null };
    const name = Object.entries(SIGNUM).find(([, n]) => n === code - 128)?.[0] as NodeJS.Signals | undefined;
    return { exitCode: code, signal: name ?? null };
  }
  mainPid(run: RunRecord): number | undefined {
    return run.bwrap && this.alive(run.bwrap) ? run.bwrap.pid : undefined;
  }
  signal(run: RunRecord, signal: NodeJS.Signals): number {
    if (!run.init || !this.alive(run.init)) return 0;
    return this.launcher.signal(run.init.pid, signal) ? 1 : 0;
  }
  stats(run: RunRecord): DriverStats | undefined {
    if (!run.cgroup || !this.cgroups.has(run.cgroup)) return undefined;
    const cpu = Math.round(performance.now() * 100);
    return {
      cpuUserMs: cpu / 2000,
      cpuSystemMs: cpu / 2000,
      cpuUsageUs: cpu,
      memoryBytes: 1 << 20,
      peakMemoryBytes: 2 << 20,
      memoryLimitBytes: null,
      pids: 1,
    };
  }
  usage(run: RunRecord): SandboxUsage {
    const oomKilled = run.cgroup !== undefined && this.oom.has(run.cgroup);
    return { cpuUserMs: 1, cpuSystemMs: 1, peakMemoryBytes: 2 << 20, oomKilled };
  }
  async releaseRun(run: RunRecord): Promise<void> {
    for (const r of [run.watcher, run.init, run.bwrap, run.trace?.recorder])
      if (r && this.alive(r)) this.launcher.signal(r.pid, 'SIGKILL');
    if (run.cgroup) this.cgroups.delete(run.cgroup);
    await new Promise((r) => setImmediate(r));
  }
  startWatcher(run: RunRecord, timeoutMs: number, paths: ContainerPaths): Promise<ProcRef | undefined> {
    const p = this.launcher.launch({
      file: 'fake-watcher',
      args: [],
      env: {},
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
    });
    return this.childOf(p.pid).then((child) => {
      this.arm(child, run, timeoutMs, paths);
      return { pid: p.pid, start: '1' };
    });
  }

  checkTrace(trace: ContainerTraceConfig): Promise<void> {
    const why = this.options.traceUnavailable;
    if (why)
      return Promise.reject(
        new UnsupportedError(`cannot trace containers on this host: ${why}`, 'run as root'),
      );
    if (trace.backend !== undefined && trace.backend !== 'fake')
      return Promise.reject(new UnsupportedError(`unknown tracer backend ${JSON.stringify(trace.backend)}`));
    return Promise.resolve();
  }

  async startRecorder(req: RecorderRequest): Promise<RecorderRecord> {
    const p = this.launcher.launch({
      file: 'fake-recorder',
      args: [],
      env: {},
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
    });
    const child = await this.childOf(p.pid);
    const rec = new FakeRecorder(req.file, req.label, req.init.pid, () => {
      this.recorders.delete(req.init.pid);
      child.exit(0);
    });
    // Any signal: it writes its end record and goes, as the real one does on SIGTERM.
    child.onSignal(() => rec.end());
    this.recorders.set(req.init.pid, rec);
    return { recorder: { pid: p.pid, start: '1' }, backend: 'fake', cgroup: req.cgroup ?? null };
  }

  private arm(child: FakeChild, run: RunRecord, timeoutMs: number, paths: ContainerPaths): void {
    const timer = setTimeout(() => {
      if (run.init && this.alive(run.init)) {
        writeFileSync(paths.timedOut, run.id);
        this.launcher.signal(run.init.pid, 'SIGKILL');
      }
      child.exit(0);
    }, timeoutMs);
    child.onSignal(() => {
      clearTimeout(timer);
      child.exit(137);
    });
  }
  async exec(
    run: RunRecord,
    _spec: ResolvedSpec,
    command: readonly string[],
    opts: DriverExecOptions,
  ): Promise<LaunchedProcess> {
    if (!run.init || !this.alive(run.init)) throw new Error('fake exec: container not running');
    const rec = this.recorders.get(run.init.pid);
    const p = this.launcher.launch({
      file: 'fake-exec',
      args: [...command],
      env: opts.env,
      stdin: 'ignore',
      stdout: opts.stdout,
      stderr: opts.stderr,
    });
    // Joined through the cgroup, as on Linux: the run's recorder sees it.
    rec?.exec(p.pid, process.pid, command);
    void p.exit.then((e) => rec?.exit(p.pid, command[0] ?? null, e.code ?? 137));
    return p;
  }

  /** FakeLauncher runs a behaviour a tick after launch: wait for it to register the child. */
  private async childOf(pid: number): Promise<FakeChild> {
    for (let i = 0; i < 10 && !this.children.has(pid); i++) await new Promise((r) => setImmediate(r));
    const child = this.children.get(pid);
    if (!child) throw new Error(`fake process ${pid} never started`);
    return child;
  }

  private behaviour(req: LaunchRequest) {
    return (child: FakeChild) => {
      this.children.set(child.pid, child);
      const forget = () => {
        for (const [pid, c] of this.children) if (c === child) this.children.delete(pid);
      };
      // Exit bookkeeping: FakeLauncher settles `exit` a tick later; liveness ends now.
      const exit = child.exit;
      (child as { exit: FakeChild['exit'] }).exit = (code, signal) => {
        forget();
        exit(code, signal);
      };
      if (req.file === 'sleep') child.onSignal(() => child.exit(null, 'SIGKILL'));
      else if (!['fake-bwrap', 'fake-watcher', 'fake-exec', 'fake-recorder'].includes(req.file))
        child.exit(0);
      if (req.file === 'fake-exec') {
        const r = this.options.exec?.(req.args) ?? { stdout: `${req.args.join(' ')}\n` };
        if (r.stdout) child.writeStdout(r.stdout);
        if (r.stderr) child.writeStderr(r.stderr);
        child.exit(r.exitCode ?? 0);
      }
    };
  }

  private play(child: FakeChild, paths: ContainerPaths, spec: ResolvedSpec, init: number): void {
    let handler: ((s: NodeJS.Signals) => void) | undefined;
    let done = false;
    // The command is the init's child, as under bubblewrap (its pid: just a distinct number).
    const rec = this.recorders.get(init);
    const main = init + 10_000_000;
    rec?.exec(main, init, spec.command);
    const end = (code: number) => {
      if (done) return;
      done = true;
      appendFileSync(paths.status, `{ "exit-code": ${code} }\n`);
      rec?.exit(main, spec.command[0] ?? null, code);
      child.exit(code);
      // The init's exit ends the recorder.
      rec?.end();
    };
    child.onSignal((s) => {
      if (s === 'SIGKILL') end(137);
      else if (handler) handler(s);
      else end(128 + (SIGNUM[s] ?? 0));
    });
    const io: FakeProgramIO = {
      command: spec.command,
      env: spec.env,
      stdout: (l) => void (!done && appendFileSync(paths.stdout, `${l}\n`)),
      stderr: (l) => void (!done && appendFileSync(paths.stderr, `${l}\n`)),
      exit: end,
      onSignal: (h) => (handler = h),
    };
    const program = this.options.program ?? ((p: FakeProgramIO) => p.stdout(p.command.join(' ')));
    void Promise.resolve()
      .then(() => program(io))
      .catch(() => end(1));
  }
}

function readExit(file: string): number | undefined {
  try {
    const m = /"exit-code"\s*:\s*(\d+)/.exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
