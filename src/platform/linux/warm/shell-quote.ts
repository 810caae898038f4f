/**
 * POSIX shell quoting for a command line that must fit on ONE line (the parked launcher reads it
 * with `read`, which stops at the first newline): each argument in single quotes, embedded single
 * quotes closed, escaped and reopened, and newlines spliced in from `$NL`, a variable the parked
 * shell defines. Every byte but NUL (which no argv can hold) survives.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL byte');
  return `'${arg.replaceAll("'", `'\\''`).replaceAll('\n', `'"$NL"'`)}'`;
}

export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** The parked shell's preamble that defines `$NL` for `shellQuote`. */
export const DEFINE_NL = "NL='\n'";
