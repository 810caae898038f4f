import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { CliContext } from '../context.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerExec(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .summary('run a command inside a running container (its namespaces, cgroup, uid and limits)')
    .option('-i, --interactive', "pass corral's stdin to the command")
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('-w, --workdir <dir>', "working directory inside the container (default: the container's)")
    .argument('<name>')
    .argument('<command...>', 'the command and its arguments (put -- before it)')
    .action(
      async (
        name: string,
        command: string[],
        opts: { interactive?: boolean; env: string[]; workdir?: string },
      ) => {
        const env: Record<string, string> = {};
        for (const e of opts.env) {
          const eq = e.indexOf('=');
          if (eq <= 0)
            throw new ConfigError('env', `exec --env: expected K=V, got ${JSON.stringify(e)}`, { value: e });
          env[e.slice(0, eq)] = e.slice(eq + 1);
        }
        // Options pass through after the name, so a "--" there arrives as an argument.
        const argv = command[0] === '--' ? command.slice(1) : command;
        if (argv.length === 0) throw new ConfigError('command', 'exec: no command given');
        const r = await ctx.runtime().exec(name, argv, {
          env,
          ...(opts.workdir !== undefined && { workdir: opts.workdir }),
          stdin: opts.interactive ? 'inherit' : 'ignore',
          stdout: 'inherit',
          stderr: 'inherit',
        });
        ctx.exitCode = r.exitCode ?? 125;
      },
    );
}
