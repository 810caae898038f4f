import { Command, CommanderError } from 'commander';
import { defaultBackend } from '../platform/index.js';
import type { SandboxBackend } from '../run/backend.js';
import { registerCapabilities } from './commands/capabilities.js';
import { registerRun } from './commands/run.js';
import type { CliContext } from './context.js';
import { attachOptionalValues } from './optional-values.js';
import { EXIT, exitCodeForError } from './exit-codes.js';
import { reportError, type CliIO } from './output.js';

/** Each verb lives in its own file under commands/ and registers itself here. */
const COMMANDS: ((program: Command, ctx: CliContext) => void)[] = [registerRun, registerCapabilities];

export interface MainOptions {
  readonly io?: CliIO;
  readonly backend?: SandboxBackend;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit status. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
  const ctx: CliContext = { io, exitCode: 0, backend: () => options.backend ?? defaultBackend() };
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
  for (const cmd of program.commands) cmd.passThroughOptions().exitOverride();
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
