import { Command, CommanderError } from 'commander';
import { createBackend } from '../platform/index.js';
import type { SandboxBackend } from '../run/backend.js';
import { defaultDataDir } from '../runtime/data-dir.js';
import { openRuntime, type Runtime } from '../runtime/runtime.js';
import { registerCreate } from './commands/create.js';
import { registerExec } from './commands/exec.js';
import { registerImage } from './commands/image.js';
import { registerInspect } from './commands/inspect.js';
import { registerKill } from './commands/kill.js';
import { registerLogs } from './commands/logs.js';
import { registerPort } from './commands/port.js';
import { registerPs } from './commands/ps.js';
import { registerRm } from './commands/rm.js';
import { registerStart } from './commands/start.js';
import { registerStats } from './commands/stats.js';
import { registerStop } from './commands/stop.js';
import { registerTrace } from './commands/trace.js';
import { registerWait } from './commands/wait.js';
import { registerCapabilities } from './commands/capabilities.js';
import { registerRun } from './commands/run.js';
import type { CliContext } from './context.js';
import { attachOptionalValues } from './optional-values.js';
import { EXIT, exitCodeForError } from './exit-codes.js';
import { reportError, type CliIO } from './output.js';

/** Each verb lives in its own file under commands/ and registers itself here. */
const COMMANDS: ((program: Command, ctx: CliContext) => void)[] = [
  registerRun,
  registerCapabilities,
  registerCreate,
  registerStart,
  registerStop,
  registerKill,
  registerRm,
  registerPs,
  registerInspect,
  registerLogs,
  registerExec,
  registerStats,
  registerWait,
  registerTrace,
  registerPort,
  registerImage,
];

/** Verbs that take a command: options after its first word belong to that command. */
const TAKES_COMMAND = new Set(['run', 'create', 'exec']);

export interface MainOptions {
  readonly io?: CliIO;
  readonly backend?: SandboxBackend;
  readonly runtime?: Runtime;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit status. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
  let rt = options.runtime;
  let cliBackend: SandboxBackend | undefined;
  const ctx: CliContext = {
    io,
    exitCode: 0,
    // One run per CLI process: a warm-start spare would only be started to be thrown away.
    backend: () => options.backend ?? (cliBackend ??= createBackend({ warmStarts: false })),
    runtime: () => (rt ??= openRuntime({ dataDir: defaultDataDir(io.env) })),
  };
  const program = new Command('corral')
    .description('Run untrusted commands in sandboxes with kernel-enforced limits.')
    .version(version(), '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`corral: ${s.replace(/^error: /, '')}`),
    });
  for (const register of COMMANDS) register(program, ctx);
  // Options after the command belong to the command: `corral run ls -la`.
  for (const cmd of program.commands) {
    cmd.exitOverride();
    if (TAKES_COMMAND.has(cmd.name())) cmd.passThroughOptions();
  }
  try {
    await program.parseAsync(attachOptionalValues(program, argv), { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return EXIT.CORRAL;
    }
    reportError(io, err);
    return exitCodeForError(err);
  }
}

function version(): string {
  return '0.1.0';
}
