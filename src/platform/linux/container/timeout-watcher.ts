// A container's wall-clock timeout needs something awake when it expires, and no corral process
// stays behind: a detached shell sleeps, then, if the container's init is still the same process
// (pid and start time), records the timeout and kills the init, which ends the whole pid namespace.
export const WATCHER_SCRIPT =
  'sleep "$1" || exit 0; ' +
  's=$(cut -d" " -f22 "/proc/$2/stat" 2>/dev/null) || exit 0; ' +
  '[ "$s" = "$3" ] || exit 0; ' +
  'echo "$4" > "$5"; kill -KILL "$2"';

export function watcherArgs(
  timeoutMs: number,
  init: { pid: number; start: string },
  runId: string,
  marker: string,
): string[] {
  return [
    '-c',
    WATCHER_SCRIPT,
    'corral-timeout',
    (timeoutMs / 1000).toFixed(3),
    String(init.pid),
    init.start,
    runId,
    marker,
  ];
}
