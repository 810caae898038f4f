import path from 'node:path';
import type { Command } from 'commander';
import type { SandboxBackend } from '../../run/backend.js';
import type { RunResult } from '../../run/result.js';
import { SandboxProcess } from '../../run/sandbox-process.js';
import { resolveSpec } from '../../spec/resolve.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { EXIT, exitCodeForError, exitCodeForSignal } from '../exit-codes.js';
import { reportError, say, type CliIO } from '../output.js';
import { addSandboxOptions, specFromOptions } from '../options/sandbox-options.js';
import { addTraceOption, traceFromOptions } from '../options/trace-option.js';
import { prepareRunTrace, type RunTrace } from '../../run/run-trace.js';
import { formatSummary } from '../../trace/summary.js';
import type { CliContext } from '../context.js';
import { ConfigError } from '../../errors.js';
import { resolveCreate } from '../options/container-options.js';
import { addContainerOptions } from './create.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function registerRun(program: Command, ctx: CliContext): void {
  const cmd = addTraceOption(
    addSandboxOptions(
      program
        .command('run')
        .summary('run a command in a sandbox, in the foreground')
        .description('Run a command in a sandbox. Its output streams through; corral exits with its status.')
        .argument('<command...>', 'the command and its arguments (put -- before it)')
        .option('--result-file <file>', 'write the run result as JSON to FILE'),
    ),
  );
  // --- run -d (lifecycle): create + start a detached container and print its name.
  addContainerOptions(cmd).option('-d, --detach', 'run as a container in the background and print its name');
  cmd.action(async (command: string[], opts: Record<string, unknown>) => {
    if (opts.detach) {
      await runDetached(command, opts, ctx);
      return;
    }
    if (opts.name !== undefined || opts.image !== undefined || opts.logTimestamps !== undefined)
      throw new ConfigError('detach', '--name, --image and --log-timestamps need -d');
    // --- end run -d
    const trace = traceFromOptions(opts.trace, ctx.io);
    ctx.exitCode = await runCommand(command, opts, ctx.io, ctx.backend(), trace);
  });
}

async function runDetached(command: string[], opts: Record<string, unknown>, ctx: CliContext): Promise<void> {
  if (opts.resultFile !== undefined) throw new ConfigError('detach', '--result-file cannot be used with -d');
  if (typeof opts.trace === 'string' && opts.trace !== '')
    throw new ConfigError(
      'trace',
      `run -d --trace=${opts.trace}: a container keeps its trace in its own trace.jsonl (read it with corral trace NAME); give --trace without a file`,
      { value: opts.trace },
    );
  const { name, spec, options } = resolveCreate(command, opts, ctx.io);
  const rt = ctx.runtime();
  const c = await rt.create(name, spec, options);
  try {
    await c.start();
  } catch (err) {
    // docker run -d leaves a container that failed to start; corral does not keep the debris.
    await c.remove({ force: true }).catch(() => undefined);
    throw err;
  }
  ctx.io.stdout.write(`${c.name}\n`);
}
// --- end run -d

async function runCommand(
  command: string[],
  opts: Record<string, unknown>,
  io: CliIO,
  backend: SandboxBackend,
  trace: { file: string | undefined } | undefined,
): Promise<number> {
  const resultFile = typeof opts.resultFile === 'string' ? path.resolve(io.cwd, opts.resultFile) : undefined;
  let proc: SandboxProcess;
  let result: RunResult;
  const handlers = new Map<NodeJS.Signals, () => void>();
  let tracing: RunTrace | undefined;
  try {
    const spec = resolveSpec(specFromOptions(opts, command, io), { cwd: io.cwd, hostEnv: io.env });
    tracing = trace ? await prepareRunTrace(trace.file === undefined ? {} : { file: trace.file }) : undefined;
    proc = new SandboxProcess(spec, backend, {
      stdin: 'inherit',
      stdout: 'inherit',
      stderr: 'inherit',
      ...(tracing && { onReady: tracing.onReady }),
    });
    await proc.start();
    // Said before the command's output, so nobody mistakes the run for a limited one.
    for (const [limit, how] of Object.entries(proc.limits)) {
      if (how.enforcement === 'userspace' && limit !== 'timeout' && limit !== 'output') {
        say(io, `note: ${limit} ${how.value} is held in userspace (${how.mechanism}), not by the kernel`);
      }
    }
    for (const miss of proc.notEnforced)
      say(io, `warning: ${miss.limit} is not enforced: ${miss.reason} (fix: ${miss.fix})`);
    // The sandbox is in its own session, so a terminal's Ctrl-C reaches corral only: pass it
    // on, and escalate to SIGKILL if it comes again.
    let received = 0;
    for (const sig of FORWARDED) {
      const h = () => (++received > 1 ? proc.kill() : proc.signal(sig));
      handlers.set(sig, h);
      process.on(sig, h);
    }
    result = await proc.wait();
    const summary = await tracing?.finish();
    tracing = undefined;
    if (summary) {
      result = { ...result, trace: summary };
      if (!trace?.file) for (const line of formatSummary(summary)) say(io, line);
    }
  } catch (err) {
    await tracing?.finish().catch(() => undefined);
    reportError(io, err);
    if (resultFile)
      writeResult(io, resultFile, {
        error: { code: (err as { code?: string }).code ?? 'E_INTERNAL', message: (err as Error).message },
      });
    return exitCodeForError(err);
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
  if (result.message) say(io, `killed: ${result.message}`);
  if (resultFile && !writeResult(io, resultFile, result)) return EXIT.CORRAL;
  if (result.exitCode !== null) return result.exitCode;
  return result.signal ? exitCodeForSignal(result.signal) : EXIT.CORRAL;
}

function writeResult(io: CliIO, file: string, value: unknown): boolean {
  try {
    writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
    return true;
  } catch (err) {
    say(io, `cannot write --result-file ${file}: ${(err as Error).message}`);
    return false;
  }
}
