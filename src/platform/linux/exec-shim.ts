/**
 * `corral exec` reaches a container's namespaces through a chain of corral's own processes
 * (a cgroup-joining shell, prlimit, setpriv, nsenter, sometimes a nested bubblewrap, and a
 * shell that turns a failed exec into 126/127). Their `$0` is this name, so that the tracer can
 * tell corral's plumbing from the command the user asked for.
 */
export const EXEC_SHIM_NAME = 'corral-exec';

/** The status shell's script: it only execs its arguments. */
export const EXEC_SHIM_SCRIPT = 'exec "$@"';

/** Whether an argv (without argv[0]) is the status shell that execs the user's command next. */
export function isExecShim(args: readonly string[] | null): boolean {
  return args !== null && args[0] === '-c' && args[1] === EXEC_SHIM_SCRIPT && args[2] === EXEC_SHIM_NAME;
}
