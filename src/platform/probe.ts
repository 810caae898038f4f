import type { ProcessLauncher } from '../process/types.js';
import { DEFAULT_PATH } from '../spec/resolve.js';

export interface ProbeResult {
  readonly ok: boolean;
  readonly stdout: string;
  /** First line of stderr, or what went wrong, when not ok. */
  readonly error: string;
}

/** Runs a host program for a capability probe, with a hard timeout: probes must never hang. */
export async function runProbe(
  launcher: ProcessLauncher,
  file: string,
  args: string[],
  as: { uid?: number; gid?: number } = {},
  timeoutMs = 5000,
): Promise<ProbeResult> {
  let stdout = '';
  let stderr = '';
  let p;
  try {
    p = launcher.launch({
      file,
      args,
      env: { PATH: DEFAULT_PATH, LANG: 'C' },
      cwd: '/',
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      ...as,
    });
  } catch (err) {
    return { ok: false, stdout: '', error: (err as Error).message };
  }
  p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
  );
  try {
    const r = await Promise.race([p.exit, timeout]);
    if (r === 'timeout') {
      p.kill('SIGKILL');
      return { ok: false, stdout, error: `${file} did not finish within ${timeoutMs} ms` };
    }
    const ok = r.code === 0;
    return {
      ok,
      stdout,
      error: ok ? '' : (stderr.trim().split('\n')[0] ?? '') || `exit ${r.code ?? r.signal}`,
    };
  } catch (err) {
    return { ok: false, stdout, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
