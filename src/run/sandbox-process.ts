import { PassThrough, type Readable, type Writable } from 'node:stream';
import { StateError } from '../errors.js';
import type { StdioMode } from '../process/types.js';
import type { LimitName, ResolvedSpec } from '../spec/types.js';
import { formatDuration } from '../spec/units.js';
import type {
  BackendStartOptions,
  LimitReport,
  NotEnforced,
  RunningSandbox,
  SandboxBackend,
  SandboxStats,
} from './backend.js';
import { decideReason, limitMessage, type RunResult } from './result.js';

export interface SpawnOptions {
  /** Default `pipe` (write to `proc.stdin`). `ignore` gives the sandbox /dev/null. */
  readonly stdin?: StdioMode;
  /** Default `pipe` (read `proc.stdout`). `inherit` shares corral's own stdout. */
  readonly stdout?: StdioMode;
  /** Default `pipe`. */
  readonly stderr?: StdioMode;
  /** Aborting kills the whole sandbox; `wait()` then rejects with the abort reason. */
  readonly signal?: AbortSignal;
  /** Default: the backend for this OS. */
  readonly backend?: SandboxBackend;
  /** Kill the sandbox when corral exits. Default true. */
  readonly dieWithParent?: boolean;
  /** See BackendStartOptions.onReady: runs before the command's first instruction. */
  readonly onReady?: BackendStartOptions['onReady'];
}

export type ProcessState = 'created' | 'starting' | 'running' | 'exited';

/**
 * One sandboxed command: created, then started, then exited. Streams exist from creation so
 * they can be wired before `start()`.
 */
export class SandboxProcess implements AsyncDisposable {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  private _state: ProcessState = 'created';
  private sandbox: RunningSandbox | undefined;
  private completion: Promise<RunResult> | undefined;
  private result: RunResult | undefined;
  private timedOut = false;

  constructor(
    readonly spec: ResolvedSpec,
    private readonly backend: SandboxBackend,
    private readonly options: SpawnOptions = {},
  ) {
    this.stdin = (options.stdin ?? 'pipe') === 'pipe' ? new PassThrough() : null;
    this.stdout = (options.stdout ?? 'pipe') === 'pipe' ? new PassThrough() : null;
    this.stderr = (options.stderr ?? 'pipe') === 'pipe' ? new PassThrough() : null;
  }

  get state(): ProcessState {
    return this._state;
  }
  get running(): boolean {
    return this._state === 'running';
  }
  /** Host pid of the sandbox's top process, once started. */
  get pid(): number | undefined {
    return this.sandbox?.pid;
  }
  get exitCode(): number | null {
    return this.result?.exitCode ?? null;
  }
  /** How each requested limit is enforced (known once started). */
  get limits(): Readonly<Partial<Record<LimitName, LimitReport>>> {
    return this.sandbox?.limits ?? {};
  }

  /** Requested limits this host could not enforce (only with bestEffort). */
  get notEnforced(): readonly NotEnforced[] {
    return this.sandbox?.notEnforced ?? [];
  }

  /** Starts the sandbox; resolves once the command is running under its limits. */
  async start(): Promise<this> {
    if (this._state !== 'created')
      throw new StateError(`cannot start: the process is ${this._state}`, { state: this._state });
    this.options.signal?.throwIfAborted();
    this._state = 'starting';
    const startedAt = performance.now();
    let sandbox: RunningSandbox;
    try {
      sandbox = await this.backend.start(this.spec, {
        stdin: this.options.stdin ?? 'pipe',
        stdout: this.options.stdout ?? 'pipe',
        stderr: this.options.stderr ?? 'pipe',
        ...(this.options.dieWithParent !== undefined && { dieWithParent: this.options.dieWithParent }),
        ...(this.options.onReady && { onReady: this.options.onReady }),
      });
    } catch (err) {
      this._state = 'exited';
      for (const s of [this.stdout, this.stderr]) (s as PassThrough | null)?.end();
      throw err;
    }
    this.sandbox = sandbox;
    this._state = 'running';
    this.wire(sandbox);
    this.completion = this.supervise(sandbox, startedAt);
    // Callers that only use streams must not see an unhandled rejection.
    this.completion.catch(() => undefined);
    return this;
  }

  /** Resolves with the result once the sandbox has ended and everything of it is released. */
  wait(): Promise<RunResult> {
    if (!this.completion)
      return Promise.reject(new StateError(`cannot wait: the process is ${this._state}, not started`));
    return this.completion;
  }

  /** Sends a signal to every process in the sandbox. No effect once it has exited. */
  signal(signal: NodeJS.Signals): void {
    if (this._state === 'running') this.sandbox?.signal(signal);
  }

  /** SIGKILL for the whole tree. */
  kill(): void {
    this.signal('SIGKILL');
  }

  stats(): SandboxStats {
    if (!this.sandbox) throw new StateError(`no stats: the process is ${this._state}`);
    return this.sandbox.stats();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this._state === 'running') this.kill();
    await this.completion?.catch(() => undefined);
  }

  private wire(sandbox: RunningSandbox): void {
    if (sandbox.stdout && this.stdout) sandbox.stdout.pipe(this.stdout as PassThrough);
    if (sandbox.stderr && this.stderr) sandbox.stderr.pipe(this.stderr as PassThrough);
    if (sandbox.stdin && this.stdin) {
      // The command may exit without reading its input: EPIPE then is normal, not an error.
      sandbox.stdin.on('error', () => undefined);
      (this.stdin as PassThrough).pipe(sandbox.stdin);
    }
  }

  private async supervise(sandbox: RunningSandbox, startedAt: number): Promise<RunResult> {
    const { limits } = this.spec;
    const reports: Partial<Record<LimitName, LimitReport>> = { ...sandbox.limits };
    let timer: NodeJS.Timeout | undefined;
    if (limits.timeoutMs !== undefined) {
      reports.timeout = {
        value: formatDuration(limits.timeoutMs),
        enforcement: 'userspace',
        mechanism: 'corral wall-clock timer, then SIGKILL of the whole sandbox',
      };
      timer = setTimeout(() => {
        this.timedOut = true;
        sandbox.signal('SIGKILL');
      }, limits.timeoutMs);
    }
    const abort = () => sandbox.signal('SIGKILL');
    this.options.signal?.addEventListener('abort', abort, { once: true });
    // An abort that came while the sandbox was starting fires no event now: act on it here.
    if (this.options.signal?.aborted) abort();
    try {
      const exit = await sandbox.exited;
      const wallMs = Math.round(performance.now() - startedAt);
      clearTimeout(timer);
      const usage = await sandbox.finish();
      this.options.signal?.throwIfAborted();
      const reason = decideReason({ exit, usage, timedOut: this.timedOut, limits });
      const message = limitMessage(reason, limits, usage);
      this.result = {
        exitCode: exit.exitCode,
        signal: exit.signal,
        reason,
        wallMs,
        cpuUserMs: usage.cpuUserMs,
        cpuSystemMs: usage.cpuSystemMs,
        peakMemoryBytes: usage.peakMemoryBytes,
        limits: reports,
        notEnforced: sandbox.notEnforced,
        ...(message !== undefined && { message }),
      };
      return this.result;
    } finally {
      clearTimeout(timer);
      this.options.signal?.removeEventListener('abort', abort);
      this._state = 'exited';
      await sandbox.finish().catch(() => undefined);
    }
  }
}
