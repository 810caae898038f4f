import { closeSync, constants, openSync } from 'node:fs';
import { UnsupportedError } from '../errors.js';
import type { ProcessLauncher } from '../process/types.js';
import type { ContainerDriver } from './driver.js';
import { timesFile } from './log-times.js';
import type { ContainerPaths } from './paths.js';
import type { ProcRef } from './types.js';

// The kernel records no write time per byte, so per-line times need a process that sees each
// chunk arrive. This one is opt-in (create --log-timestamps) and tiny: perl, which Debian and
// Ubuntu always have, reading the two streams and appending each chunk to the log file and
// "END-OFFSET MILLISECONDS" to the .times file beside it. Its cost is measured by
// bench:lifecycle. fd 0 / 3: the container's stdout / stderr; 4, 5: the logs; 6, 7: the times.
const SCRIPT = String.raw`
use strict; use Time::HiRes qw(time);
my @s = map { my ($i, $o, $t) = @$_; open(my $in, '<&=', $i) or die; open(my $out, '>>&=', $o) or die;
  open(my $tm, '>>&=', $t) or die; [$in, $out, $tm, $i] } ([0, 4, 6], [3, 5, 7]);
while (@s) {
  my $rin = ''; vec($rin, $_->[3], 1) = 1 for @s;
  my $r;
  next unless select($r = $rin, undef, undef, undef) > 0;
  for my $x (@s) {
    next unless vec($r, $x->[3], 1);
    my $n = sysread($x->[0], my $buf, 65536);
    my $now = time() * 1000;
    if (!$n) { $x->[3] = -1; next; }
    for (my $off = 0; $off < $n; ) { my $w = syswrite($x->[1], $buf, $n - $off, $off); last unless $w; $off += $w; }
    my $end = sysseek($x->[1], 0, 1);
    syswrite($x->[2], sprintf("%d %.3f\n", $end, $now));
  }
  @s = grep { $_->[3] >= 0 } @s;
}`;

export interface StartedLogger {
  readonly ref: ProcRef | undefined;
  /** fds to give the sandbox as its stdout and stderr. */
  readonly stdoutFd: number;
  readonly stderrFd: number;
  /** Closes this process's copies once the sandbox has its own. */
  close(): void;
}

/** Fails early, at create, when the logger cannot run here. */
export async function checkLogger(launcher: ProcessLauncher): Promise<void> {
  const p = launcher.launch({
    file: 'perl',
    args: ['-MTime::HiRes', '-e', '1'],
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C' },
    cwd: '/',
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  });
  const e = await p.exit.catch(() => ({ code: 1 }));
  if (e.code !== 0)
    throw new UnsupportedError(
      '--log-timestamps needs perl with Time::HiRes to stamp each chunk of output as it arrives',
      'apt-get install perl (or create the container without --log-timestamps)',
    );
}

/** Starts the logger for one run; it exits by itself once every writer of both streams is gone. */
export function startLogger(
  driver: ContainerDriver,
  paths: ContainerPaths,
  as: { uid?: number; gid?: number },
): StartedLogger {
  const append = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;
  const files = [paths.stdout, paths.stderr, timesFile(paths.stdout), timesFile(paths.stderr)].map((f) =>
    openSync(f, append, 0o600),
  );
  try {
    const p = driver.launcher.launch({
      file: 'perl',
      args: ['-e', SCRIPT],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C' },
      cwd: '/',
      ...as,
      stdin: 'pipe',
      stdout: 'ignore',
      stderr: 'ignore',
      extraPipes: 1,
      extraFds: files,
      // Its own session: a terminal's signals must not reach it, or the container's output dies.
      detached: true,
    });
    p.unref();
    p.exit.catch(() => undefined);
    const out = p.stdin as unknown as { _handle?: { fd?: number }; destroy(): void } | null;
    const err = p.extra[0] as unknown as { _handle?: { fd?: number }; destroy(): void } | undefined;
    const outFd = out?._handle?.fd;
    const errFd = err?._handle?.fd;
    if (typeof outFd !== 'number' || typeof errFd !== 'number')
      throw new UnsupportedError('cannot hand the logger its streams on this platform');
    return {
      ref: driver.identify(p.pid),
      stdoutFd: outFd,
      stderrFd: errFd,
      close: () => {
        out?.destroy();
        err?.destroy();
      },
    };
  } finally {
    for (const fd of files) closeSync(fd);
  }
}
