import type { Capability } from '../../../capabilities/types.js';
import type { ProcessLauncher } from '../../../process/types.js';
import { DEFAULT_PATH } from '../../../spec/resolve.js';
import { DEFAULT_SECCOMP } from '../../../spec/seccomp.js';
import { describeSeccomp, seccompProgram } from './program.js';

export interface SeccompProbeInput {
  readonly launcher: ProcessLauncher;
  readonly bwrapPath: string;
  /** bubblewrap's own options for a minimal sandbox (namespaces, root, /dev, /proc). */
  readonly baseArgs: readonly string[];
  readonly as: { uid?: number; gid?: number };
  readonly disableUserns: boolean;
  readonly timeoutMs?: number;
}

/**
 * Runs one sandbox under corral's default filter and makes a call the filter denies (unshare of a
 * user namespace, via util-linux's unshare): the report says `kernel` only if the kernel answered
 * EPERM and the process shows a filter in /proc/self/status.
 */
export async function probeSeccomp(input: SeccompProbeInput): Promise<Capability> {
  const mechanism = `seccomp-bpf compiled by corral (x86_64, aarch64; other ABIs killed, x32 refused); ${describeSeccomp(DEFAULT_SECCOMP)}`;
  if (process.arch !== 'x64' && process.arch !== 'arm64')
    return {
      status: 'unavailable',
      mechanism,
      reason: `no system call table for ${process.arch}`,
      fix: '--seccomp none',
    };
  const r = await sandboxed(input, ['--seccomp', '3'], seccompProgram(DEFAULT_SECCOMP));
  const filtered = /^Seccomp:\s*2$/m.test(r.out);
  const denied = /unshare failed: Operation not permitted/.test(r.err);
  if (filtered && denied) return { status: 'kernel', mechanism };
  return {
    status: 'unavailable',
    mechanism,
    reason:
      r.error ??
      (filtered
        ? `a denied call was not refused: ${r.err.trim() || 'it succeeded'}`
        : 'the filter was not installed'),
    fix: 'a kernel with CONFIG_SECCOMP_FILTER, and util-linux (unshare) to verify it',
  };
}

/** bubblewrap >= 0.8's --disable-userns: a nested user namespace must fail inside the sandbox. */
export async function probeDisableUserns(input: SeccompProbeInput): Promise<Capability> {
  const mechanism = 'bubblewrap --disable-userns (user.max_user_namespaces=1 inside the sandbox)';
  if (!input.disableUserns)
    return {
      status: 'unavailable',
      mechanism,
      reason: 'bubblewrap is older than 0.8.0',
      fix: 'install bubblewrap 0.8 or later',
    };
  const r = await sandboxed(input, ['--disable-userns'], undefined);
  if (r.error === undefined && /unshare failed/.test(r.err) && !/unshare=0/.test(r.out))
    return { status: 'kernel', mechanism };
  return {
    status: 'unavailable',
    mechanism,
    reason: r.error ?? `unshare -U still worked: ${r.out.trim()}`,
    fix: 'install bubblewrap 0.8 or later',
  };
}

async function sandboxed(
  input: SeccompProbeInput,
  extra: string[],
  program: Buffer | undefined,
): Promise<{ out: string; err: string; error?: string }> {
  const script = 'grep ^Seccomp: /proc/self/status; unshare -U true; echo unshare=$?';
  let out = '';
  let err = '';
  let p;
  try {
    p = input.launcher.launch({
      file: input.bwrapPath,
      args: [...input.baseArgs, ...extra, '--', 'sh', '-c', script],
      env: { PATH: DEFAULT_PATH, LANG: 'C' },
      cwd: '/',
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      ...(program && { extraPipes: 1 }),
      ...input.as,
    });
  } catch (e) {
    return { out, err, error: (e as Error).message };
  }
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const pipe = p.extra[0];
  if (program && pipe) {
    pipe.on('error', () => undefined);
    pipe.end(program);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), input.timeoutMs ?? 5000)),
  );
  try {
    const r = await Promise.race([p.exit, timeout]);
    if (r === 'timeout') {
      p.kill('SIGKILL');
      return { out, err, error: `the probe sandbox did not finish within ${input.timeoutMs ?? 5000} ms` };
    }
    if (!/unshare=/.test(out))
      return { out, err, error: `the probe sandbox failed: ${err.trim().split('\n')[0] ?? ''}` };
    return { out, err };
  } catch (e) {
    return { out, err, error: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
