import path from 'node:path';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { ConfigError, StateError, UnsupportedError } from '../../errors.js';
import type { RuntimeContext } from '../context.js';
import { deriveState } from '../view.js';

export interface ExecOptions {
  /** Variables on top of the container's environment. Default: none. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory inside the container. Default: the container's workdir. */
  readonly workdir?: string;
  /** Input: bytes, `inherit` (corral's stdin) or `ignore` (default: /dev/null). */
  readonly stdin?: string | Uint8Array | 'inherit' | 'ignore';
  /** `capture` (default) returns the output in the result; `inherit` shares corral's. */
  readonly stdout?: 'capture' | 'inherit' | 'ignore';
  readonly stderr?: 'capture' | 'inherit' | 'ignore';
  /** Aborting kills the exec'd command. */
  readonly signal?: AbortSignal;
  /**
   * An extra seccomp program (a `struct sock_filter` array, as bwrap --seccomp takes it) loaded
   * on the command on top of the container's own filter, which exec always applies. Default: none.
   */
  readonly seccomp?: Uint8Array;
}

export interface ExecResult {
  /** The command's status; 128+N when it died of signal N; 126/127 not executable/not found. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/**
 * Runs a command inside a running container: its namespaces, root, cgroup, uid and rlimits, so
 * it sees the container's files (its private /tmp too) and processes, and is limited with it.
 */
export async function execInContainer(
  ctx: RuntimeContext,
  name: string,
  command: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  if (
    command.length === 0 ||
    command[0] === '' ||
    command.some((a) => typeof a !== 'string' || a.includes('\0'))
  )
    throw new ConfigError('command', 'exec: the command must be non-empty strings without NUL bytes', {
      value: command,
    });
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (!ENV_KEY.test(k) || v.includes('\0'))
      throw new ConfigError('env', `exec: invalid environment variable ${JSON.stringify(k)}`, { value: k });
  }
  if (options.workdir !== undefined && !path.posix.isAbsolute(options.workdir))
    throw new ConfigError(
      'workdir',
      `exec: the working directory must be absolute: ${JSON.stringify(options.workdir)}`,
      {
        value: options.workdir,
      },
    );
  const c = ctx.load(name);
  const state = deriveState(ctx, c);
  const run = c.state?.run;
  if ((state.status !== 'running' && state.status !== 'stopping') || !run || !c.config)
    throw new StateError(`cannot exec in ${name}: it is not running (${state.status})`, {
      name,
      status: state.status,
    });
  // A traced container's recorder finds exec'd commands through its cgroup: without one they
  // would run unrecorded, and the trace would claim to be the whole story.
  if (c.config.trace && run.trace?.cgroup === null)
    throw new UnsupportedError(
      `cannot exec in ${name}: it is traced, and a command exec'd into it would not be recorded because the container has no cgroup`,
      'give corral cgroups (run as root, or delegate a cgroup v2 subtree) and start the container again',
      { name },
    );
  const spec = c.config.spec;
  const port = c.state?.port;
  const env = {
    ...spec.env,
    ...(port != null && {
      CORRAL_PORT: String(port),
      ...(spec.env.PORT === undefined && { PORT: String(port) }),
    }),
    ...options.env,
  };
  const input = options.stdin ?? 'ignore';
  const outMode = options.stdout ?? 'capture';
  const errMode = options.stderr ?? 'capture';
  const p = await ctx.driver.exec(run, spec, command, {
    env,
    workdir: options.workdir ?? spec.workdir,
    rootfs: c.config.rootfs.mode === 'host' ? undefined : c.config.rootfs.path,
    paths: c.paths,
    ...(options.seccomp && { seccomp: options.seccomp }),
    stdin: input === 'inherit' || input === 'ignore' ? input : 'pipe',
    stdout: outMode === 'capture' ? 'pipe' : outMode,
    stderr: errMode === 'capture' ? 'pipe' : errMode,
  });
  if (p.stdin) {
    p.stdin.on('error', () => undefined);
    p.stdin.end(typeof input === 'string' || input instanceof Uint8Array ? input : undefined);
  }
  const cap = spec.limits.outputBytes;
  const out = collect(p.stdout, cap);
  const err = collect(p.stderr, cap);
  const abort = () => p.kill('SIGKILL');
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const e = await p.exit;
    const [stdout, stderr] = await Promise.all([out, err]);
    options.signal?.throwIfAborted();
    const exitCode = e.code ?? (e.signal ? 128 + (constants.signals[e.signal] ?? 0) : null);
    return { exitCode, signal: e.signal, stdout, stderr };
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

/** Keeps the first `cap` bytes (the container's output cap) and drains the rest. */
function collect(stream: Readable | null, cap: number): Promise<string> {
  if (!stream) return Promise.resolve('');
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (c: Buffer) => {
    if (size >= cap) return;
    chunks.push(c.subarray(0, cap - size));
    size += Math.min(c.length, cap - size);
  });
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}
