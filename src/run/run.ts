import type { Readable } from 'node:stream';
import { defaultBackend } from '../platform/index.js';
import { resolveSpec } from '../spec/resolve.js';
import type { SandboxSpec } from '../spec/schema.js';
import type { SandboxBackend } from './backend.js';
import type { RunResult } from './result.js';
import { prepareRunTrace, type RunTraceOptions } from './run-trace.js';
import { SandboxProcess, type SpawnOptions } from './sandbox-process.js';

export interface RunOptions {
  /** Aborting kills the sandbox; the promise then rejects with the abort reason. */
  readonly signal?: AbortSignal;
  /** Input for the command: bytes, `inherit` (corral's stdin) or `ignore` (default: /dev/null). */
  readonly stdin?: string | Uint8Array | 'inherit' | 'ignore';
  /** `capture` (default) returns it in the result, capped at `limits.output`. */
  readonly stdout?: 'capture' | 'inherit' | 'ignore';
  readonly stderr?: 'capture' | 'inherit' | 'ignore';
  /** Base directory for relative host paths in the spec. Default: `process.cwd()`. */
  readonly cwd?: string;
  readonly backend?: SandboxBackend;
  /**
   * Trace every exec, fork and exit in the sandbox (JSONL file, callback); the result then has a
   * `trace` summary. Rejects before starting anything when this host cannot trace. Default: off.
   */
  readonly trace?: RunTraceOptions;
}

/**
 * Runs a command in a sandbox and resolves with its RunResult once the sandbox and everything
 * it started are gone. Rejects only when the sandbox could not be started (bad spec, missing
 * mechanism) or when aborted.
 */
export async function run(spec: SandboxSpec, options: RunOptions = {}): Promise<RunResult> {
  const resolved = resolveSpec(spec, options.cwd === undefined ? {} : { cwd: options.cwd });
  const input = options.stdin ?? 'ignore';
  const outMode = options.stdout ?? 'capture';
  const errMode = options.stderr ?? 'capture';
  const tracing = options.trace ? await prepareRunTrace(options.trace) : undefined;
  const spawnOptions: SpawnOptions = {
    stdin: typeof input === 'string' && (input === 'inherit' || input === 'ignore') ? input : 'pipe',
    stdout: outMode === 'capture' ? 'pipe' : outMode,
    stderr: errMode === 'capture' ? 'pipe' : errMode,
    ...(options.signal && { signal: options.signal }),
    ...(tracing && { onReady: tracing.onReady }),
  };
  const proc = new SandboxProcess(resolved, options.backend ?? defaultBackend(), spawnOptions);
  const cap = resolved.limits.outputBytes;
  const out = proc.stdout ? capture(proc.stdout, cap) : undefined;
  const err = proc.stderr ? capture(proc.stderr, cap) : undefined;
  let result: RunResult;
  let trace: RunResult['trace'] | null | undefined;
  try {
    await proc.start();
    if (proc.stdin)
      proc.stdin.end(typeof input === 'string' || input instanceof Uint8Array ? input : undefined);
    result = await proc.wait();
  } finally {
    // Also when the start failed: the tracer's socket and file are released either way.
    trace = await tracing?.finish();
  }
  const [o, e] = await Promise.all([out?.done, err?.done]);
  return {
    ...result,
    ...(trace && { trace }),
    ...(o && { stdout: o.text, stdoutTruncated: o.truncated }),
    ...(e && { stderr: e.text, stderrTruncated: e.truncated }),
  };
}

/** Keeps the first `cap` bytes and drains the rest, so a chatty command never blocks on a full pipe. */
function capture(stream: Readable, cap: number): { done: Promise<{ text: string; truncated: boolean }> } {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  stream.on('data', (chunk: Buffer) => {
    if (size >= cap) {
      truncated = true;
      return;
    }
    const room = cap - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      size = cap;
      truncated = true;
    } else {
      chunks.push(chunk);
      size += chunk.length;
    }
  });
  const done = new Promise<{ text: string; truncated: boolean }>((resolve, reject) => {
    stream.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), truncated }));
    stream.on('error', reject);
  });
  return { done };
}
