import type { Command } from 'commander';

/**
 * Commander gives an option with an optional value (`--trace [file]`) the next word as that
 * value, so in `corral run --trace python3 job.py` the command would become the trace file.
 * As git does for `--color[=when]`, an optional value is taken only when attached with `=`: a
 * bare such flag among a subcommand's own options is rewritten to `--flag=` (an empty value),
 * and the words after it are left for what follows. Words after the command are never touched.
 */
export function attachOptionalValues(program: Command, argv: readonly string[]): string[] {
  const out = [...argv];
  const at = out.findIndex((w) => program.commands.some((c) => c.name() === w || c.aliases().includes(w)));
  if (at === -1) return out;
  const sub = program.commands.find((c) => c.name() === out[at] || c.aliases().includes(out[at] as string));
  if (!sub) return out;
  for (let i = at + 1; i < out.length; i++) {
    const word = out[i] as string;
    if (word === '--' || !word.startsWith('-') || word === '-') return out; // the command starts
    if (word.includes('=')) continue;
    const option = sub.options.find((o) => o.long === word || o.short === word);
    if (option?.optional) out[i] = `${option.long ?? word}=`;
    else if (option?.required) i++; // its value is the next word
  }
  return out;
}
