import type { RunResult, SandboxSpec } from '../../../src/index.js';
import type { HostFixture } from './host-fixture.js';

/** What one escape attempt found: did the sandbox hold, and what shows it. */
export interface Verdict {
  /** `did-not-run`: the attempt never started (missing tool), so it proves nothing: a failure too. */
  readonly outcome: 'contained' | 'escaped' | 'did-not-run';
  readonly evidence: string;
}

/**
 * One thing an attacker with a shell in the sandbox would try. `spec` is run with corral's
 * default options (limits only where the attempt is about exhausting them); `judge` looks at the
 * result and at the host, and must not call an attempt contained unless it verifiably ran
 * (every script prints ATTEMPT-RAN first; a missing interpreter is not a defence).
 */
export interface Attempt {
  readonly id: string;
  readonly category: string;
  /** What the attacker tries, in a sentence. */
  readonly title: string;
  spec(host: HostFixture): SandboxSpec;
  /** How to run it, when not with the library's `run(spec)` in this process. */
  run?(spec: SandboxSpec, host: HostFixture): Promise<RunResult>;
  judge(result: RunResult, host: HostFixture): Verdict | Promise<Verdict>;
}

export const RAN = 'ATTEMPT-RAN';

/** A POSIX shell script (dash), announcing that it ran. */
export function sh(script: string): string[] {
  return ['sh', '-c', `echo ${RAN}\n${script}`];
}

/** A Python 3 program, announcing that it ran. */
export function py(code: string): string[] {
  return ['python3', '-c', `print(${JSON.stringify(RAN)}, flush=True)\n${code}`];
}

/** A C program compiled inside the sandbox (gcc, in its private /tmp) and run there. */
export function c(source: string): string[] {
  const delimiter = 'CORRAL_C_SOURCE_END';
  return sh(`cat > /tmp/a.c <<'${delimiter}'\n${source}\n${delimiter}\ngcc -w -o /tmp/a /tmp/a.c && /tmp/a`);
}

/** The Python prelude for raw system calls: `sc(nr, *args)` returns (result, errno name). */
export const PY_SYSCALL = `import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sc(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    e = ctypes.get_errno()
    return r, (errno.errorcode.get(e, str(e)) if r < 0 else 'OK')
`;

/** A one-line summary of a run for evidence. */
export function outcome(r: RunResult): string {
  const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== RAN);
  const text = lines.join(' | ');
  const how = r.signal ? `${r.reason} (${r.signal})` : `exit ${r.exitCode}`;
  return `${how}: ${text.length > 220 ? `${text.slice(0, 217)}...` : text}`;
}

/** True when the attempt's script demonstrably started. */
export const ran = (r: RunResult) => (r.stdout ?? '').includes(RAN);

/** Contained only if the attempt ran and `held` is true. */
export function verdict(r: RunResult, held: boolean, extra = ''): Verdict {
  const evidence = `${outcome(r)}${extra ? `; ${extra}` : ''}`;
  if (!ran(r)) return { outcome: 'did-not-run', evidence };
  return { outcome: held ? 'contained' : 'escaped', evidence };
}
