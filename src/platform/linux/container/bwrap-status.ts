import { readFileSync } from 'node:fs';

/**
 * The command's exit status from bubblewrap's --json-status-fd file: it writes
 * `{"child-pid": N, ...}` at start and `{"exit-code": N}` once the command has ended (128+N for
 * a death by signal N). Undefined while the command runs or if the file is missing.
 */
export function readExitCode(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const m = /"exit-code"\s*:\s*(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}
