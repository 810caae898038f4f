import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { LaunchError } from '../errors.js';
import type { LaunchExit, LaunchRequest, LaunchedProcess, ProcessLauncher } from './types.js';

/** Starts real host processes through child_process. */
export class OsLauncher implements ProcessLauncher {
  launch(req: LaunchRequest): LaunchedProcess {
    const stdio: StdioOptions = [req.stdin, req.stdout, req.stderr];
    const extra = req.extraPipes ?? 0;
    for (let i = 0; i < extra; i++) stdio.push('pipe');
    for (const fd of req.extraFds ?? []) stdio.push(fd);
    const nullFds = (req.nullFds ?? []).filter((fd) => fd >= stdio.length);
    // Opened close-on-exec by Node; libuv dup2()s it onto each listed fd in the child only.
    const devNull = nullFds.length > 0 ? openSync('/dev/null', 'r') : undefined;
    for (const fd of nullFds) {
      while (stdio.length <= fd) stdio.push('ignore');
      stdio[fd] = devNull;
    }
    let child;
    try {
      child = spawn(req.file, [...req.args], {
        env: { ...req.env },
        stdio,
        ...(req.cwd !== undefined && { cwd: req.cwd }),
        ...(req.uid !== undefined && { uid: req.uid }),
        ...(req.gid !== undefined && { gid: req.gid }),
        ...(req.detached && { detached: true }),
      });
    } catch (err) {
      throw new LaunchError(
        `cannot start ${req.file}: ${(err as Error).message}`,
        { file: req.file },
        { cause: err },
      );
    } finally {
      if (devNull !== undefined) closeSync(devNull);
    }
    const exit = new Promise<LaunchExit>((resolve, reject) => {
      child.once('error', (err) =>
        reject(
          new LaunchError(`cannot start ${req.file}: ${err.message}`, { file: req.file }, { cause: err }),
        ),
      );
      // 'close' (not 'exit') so every byte the child wrote has been read before we report it gone.
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    // A failed spawn reports through 'error' asynchronously; pid is undefined in that case.
    const pid = child.pid ?? -1;
    return {
      pid,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      extra: child.stdio.slice(3, 3 + extra) as Duplex[],
      exit,
      kill: (signal) => child.kill(signal),
      unref: () => child.unref(),
      ref: () => child.ref(),
    };
  }

  signal(pid: number, signal: NodeJS.Signals | 0): boolean {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
