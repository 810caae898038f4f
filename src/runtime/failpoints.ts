/**
 * Named points in the lifecycle operations where a test can make corral die with SIGKILL, the
 * way a crash or an OOM kill would, to check that the next command reads the state correctly.
 * Inert unless `CORRAL_FAILPOINTS` lists the point (comma-separated): never set it in production.
 */
export function failpoint(name: string): void {
  const wanted = process.env.CORRAL_FAILPOINTS;
  if (!wanted) return;
  if (wanted.split(',').includes(name)) process.kill(process.pid, 'SIGKILL');
}
