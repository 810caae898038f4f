import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { linuxTracerBackends } from '../../src/platform/linux/trace/backends.js';
import { linuxSandboxMissing } from './host.js';

/** Why the proc connector cannot be tested here, or undefined. */
export async function procConnectorMissing(): Promise<string | undefined> {
  const sandbox = linuxSandboxMissing();
  if (sandbox) return sandbox;
  const conn = linuxTracerBackends().find((b) => b.name === 'proc-connector');
  const p = await conn?.probe();
  return p?.ok ? undefined : `proc connector unavailable: ${p?.reason ?? 'no backend'}`;
}

/** Open NETLINK_CONNECTOR sockets of a process (from /proc/PID/fd and /proc/net/netlink). */
export function connectorSockets(pid: number | 'self' = 'self'): number {
  const connector = new Set<string>();
  for (const line of readFileSync('/proc/net/netlink', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === '11' && f[9]) connector.add(f[9]);
  }
  let n = 0;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0; // the process is gone
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && connector.has(m[1] as string)) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
