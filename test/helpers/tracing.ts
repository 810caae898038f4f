import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { linuxTracerBackends } from '../../src/platform/linux/trace/backends.js';
import { linuxSandboxMissing } from './host.js';

/** Why this tracer backend cannot be tested here, or undefined. */
async function backendMissing(name: string, what: string): Promise<string | undefined> {
  const sandbox = linuxSandboxMissing();
  if (sandbox) return sandbox;
  const p = await linuxTracerBackends()
    .find((b) => b.name === name)
    ?.probe();
  return p?.ok ? undefined : `${what} unavailable: ${p?.reason ?? 'no backend'}`;
}

/** Why the proc connector cannot be tested here, or undefined. */
export const procConnectorMissing = () => backendMissing('proc-connector', 'proc connector');

/** Why the eBPF tracer cannot be tested here, or undefined. */
export const ebpfMissing = () => backendMissing('ebpf', 'eBPF tracer');

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

// Walks the kernel's list of loaded programs (BPF_PROG_GET_NEXT_ID, GET_FD_BY_ID, OBJ_GET_INFO_BY_FD)
// and prints each one's name: what is loaded, whoever holds it.
const LIST_PROGRAMS = String.raw`
my $sys = $ARGV[0];
sub bpf { my $a = $_[1]; my $r = syscall($sys, $_[0], $a, length $a); ($r, $a) }
my $id = 0;
while (1) {
  my ($r, $a) = bpf(11, pack('L L L', $id, 0, 0) . ("\0" x 20));
  last if $r < 0;
  $id = unpack('x4 L', $a);
  my ($fd) = bpf(13, pack('L L L', $id, 0, 0) . ("\0" x 20));
  next if $fd < 0;
  my $info = "\0" x 256;
  bpf(15, pack('L L Q', $fd, length $info, unpack('Q', pack('p', $info))) . ("\0" x 16));
  print "$id ", unpack('x64 Z16', $info), "\n";
  POSIX::close($fd);
}`;

/** The eBPF programs loaded in the kernel right now, by id (root only). */
export function loadedBpfPrograms(): Map<number, string> {
  const sys = process.arch === 'arm64' ? '280' : '321'; // bpf(2)
  const r = spawnSync('perl', ['-MPOSIX', '-e', LIST_PROGRAMS, sys], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`listing eBPF programs failed: ${r.stderr}`);
  return new Map(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => [Number(l.slice(0, l.indexOf(' '))), l.slice(l.indexOf(' ') + 1)] as const),
  );
}

/** Ids of the eBPF programs a process holds descriptors of (from /proc/PID/fdinfo). */
export function heldBpfPrograms(pid: number): number[] {
  const ids = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^prog_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return [...ids];
}

/** eBPF objects (programs, maps, links) a process holds descriptors of. */
export function bpfDescriptors(pid: number | 'self' = 'self'): number {
  let n = 0;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0;
  }
  for (const fd of fds) {
    try {
      if (/^anon_inode:bpf[-_]/.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
