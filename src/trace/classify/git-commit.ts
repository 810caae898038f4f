import { firstPositional, programName, toArgv, unwrap, type ArgvLike } from './argv.js';

// git's own options (before the subcommand) that take their value as the next argument;
// `--exec-path` and `--list-cmds` only take `=value`.
const GIT_VALUED = new Set([
  '-C',
  '-c',
  '--git-dir',
  '--work-tree',
  '--namespace',
  '--config-env',
  '--super-prefix',
]);

/** The git subcommand of an argv (`git -C repo -c k=v commit` → `commit`), if it runs git. */
export function gitSubcommand(x: ArgvLike): { name: string; args: readonly string[] } | undefined {
  const argv = unwrap(toArgv(x));
  if (programName(argv[0]) !== 'git') return undefined;
  const { word, index } = firstPositional(argv, 1, GIT_VALUED);
  if (word === undefined) return undefined;
  return { name: word, args: argv.slice(index + 1) };
}

/**
 * True when the argv records a commit: `git commit` (not `--dry-run`) or the plumbing
 * `git commit-tree`, with any of git's global options before the subcommand
 * (`git -C repo -c user.name=x --git-dir=.git commit -m msg`). `git log` and friends are not.
 * Aliases defined in a config file cannot be seen from the argv and are not resolved.
 */
export function isGitCommit(x: ArgvLike): boolean {
  const sub = gitSubcommand(x);
  if (!sub) return false;
  if (sub.name === 'commit-tree') return true;
  if (sub.name !== 'commit') return false;
  for (const a of sub.args) {
    if (a === '--') break;
    if (a === '--dry-run') return false;
  }
  return true;
}
