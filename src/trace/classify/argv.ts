/** An argv, or anything that carries one (an ExecEvent). */
export type ArgvLike =
  readonly string[] | { readonly command: string | null; readonly args: readonly string[] | null };

/** The argv of an event or array; empty when the event's argv was not captured. */
export function toArgv(x: ArgvLike): readonly string[] {
  if (Array.isArray(x)) return x as readonly string[];
  const e = x as { command: string | null; args: readonly string[] | null };
  return e.command === null || e.args === null ? [] : [e.command, ...e.args];
}

/** `/usr/bin/python3` → `python3`. */
export function programName(arg0: string | undefined): string {
  if (!arg0) return '';
  return arg0.slice(arg0.lastIndexOf('/') + 1);
}

// Programs that run another program given after their own options: the one behind is what ran.
// Each entry: options that take a separate value.
const WRAPPERS: Readonly<Record<string, ReadonlySet<string>>> = {
  env: new Set(['-u', '--unset', '-C', '--chdir', '-S', '--split-string']),
  sudo: new Set([
    '-u',
    '--user',
    '-g',
    '--group',
    '-C',
    '-D',
    '--chdir',
    '-h',
    '--host',
    '-p',
    '-r',
    '-t',
    '-U',
  ]),
  doas: new Set(['-u', '-C']),
  nice: new Set(['-n', '--adjustment']),
  nohup: new Set(),
  time: new Set(['-f', '--format', '-o', '--output']),
  command: new Set(),
  exec: new Set(['-a']),
  stdbuf: new Set(['-i', '-o', '-e']),
  ionice: new Set(['-c', '-n', '-p', '-P', '-u']),
  setsid: new Set(),
  chronic: new Set(),
  xargs: new Set(['-a', '-d', '-E', '-I', '-L', '-n', '-P', '-s']),
};

/**
 * Strips wrappers such as `env X=1`, `sudo -u x`, `nice -n 5`, `timeout 10s` so the classifiers
 * see the program that does the work. A shell's `-c` string is not parsed: the shell's own exec
 * of that program is traced separately.
 */
export function unwrap(argv: readonly string[]): readonly string[] {
  let rest = argv;
  for (let depth = 0; depth < 8; depth++) {
    const name = programName(rest[0]);
    if (name === 'timeout') {
      const i = skipOptions(rest, 1, new Set(['-s', '--signal', '-k', '--kill-after']));
      rest = rest.slice(i + 1); // the duration
      continue;
    }
    const valued = WRAPPERS[name];
    if (!valued) return rest;
    let i = skipOptions(rest, 1, valued);
    if (name === 'env') while (i < rest.length && /^[^=-][^=]*=/.test(rest[i] as string)) i++;
    rest = rest.slice(i);
  }
  return rest;
}

/**
 * Index of the first positional argument at or after `from`, skipping options (and the separate
 * values of the options in `valued`). `--` ends the options.
 */
export function skipOptions(argv: readonly string[], from: number, valued: ReadonlySet<string>): number {
  let i = from;
  while (i < argv.length) {
    const a = argv[i] as string;
    if (a === '--') return i + 1;
    if (!a.startsWith('-') || a === '-') return i;
    i += valued.has(a) ? 2 : 1;
  }
  return i;
}

/** The first positional argument after `from`, with its index. */
export function firstPositional(
  argv: readonly string[],
  from: number,
  valued: ReadonlySet<string>,
): { word: string | undefined; index: number } {
  const index = skipOptions(argv, from, valued);
  return { word: argv[index], index };
}
