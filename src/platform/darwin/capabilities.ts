import { createServer } from 'node:net';
import { release as osRelease } from 'node:os';
import type { Capability, CapabilityReport } from '../../capabilities/types.js';
import { DEFAULT_INTERVAL_MS } from '../../limits/config.js';
import type { ProcessLauncher } from '../../process/types.js';
import { DEFAULT_SANDBOX_ID } from '../../spec/resolve.js';
// An OS-neutral helper (a host program with a hard timeout) that happens to live beside Linux.
import { runProbe } from '../probe.js';
import { NPROC_REASON, userspaceMechanism } from './darwin-limits.js';
import { PS_PATH, parseCpuTime } from './ps.js';
import { SH_PATH } from './rlimit-wrapper.js';
import { tracerCapabilities } from '../../trace/factory.js';
import { darwinTracerBackends } from './trace/backends.js';

export interface DarwinProbeInput {
  readonly launcher: ProcessLauncher;
  readonly sandboxExecPath: string;
  readonly uid?: number;
  readonly psPath?: string;
  readonly shPath?: string;
  readonly release?: string;
}

const NO_NAMESPACES = 'macOS has no namespaces';

/** A port on the host's loopback that accepts connections, for the network probe. */
async function listener(): Promise<{ port: number; close: () => void }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, close: () => server.close() };
}

/** Probes, for real and with timeouts, what the macOS backend can enforce here. */
export async function probeDarwin(input: DarwinProbeInput): Promise<CapabilityReport> {
  const started = performance.now();
  const { launcher, sandboxExecPath: sbx } = input;
  const sh = input.shPath ?? SH_PATH;
  const uid = input.uid ?? process.getuid?.() ?? 0;
  const root = uid === 0;
  const isolation: Record<string, Capability> = {};
  const limits: Record<string, Capability> = {};

  // Seatbelt: a profile must load, and a deny rule must actually deny.
  const loads = await runProbe(launcher, sbx, ['-p', '(version 1)(allow default)', '/usr/bin/true']);
  const denies = await runProbe(launcher, sbx, [
    '-p',
    '(version 1)(allow default)(deny file-read-data (subpath "/private/etc"))',
    '/bin/cat',
    '/etc/hosts',
  ]);
  const seatbelt = loads.ok && !denies.ok;
  const seatbeltWhy = !loads.ok ? loads.error : 'a deny rule did not deny a file read';
  isolation.filesystem = seatbelt
    ? {
        status: 'kernel',
        mechanism: `Seatbelt (${sbx}): deny-by-default profile, system read-only, writes to the workspace and --rw only`,
      }
    : {
        status: 'unavailable',
        mechanism: `Seatbelt (${sbx})`,
        reason: seatbeltWhy,
        fix: 'corral needs /usr/bin/sandbox-exec (part of macOS)',
      };

  const net = await listener();
  try {
    const target = ['/usr/bin/nc', '-z', '-w', '2', '127.0.0.1', String(net.port)];
    const open = await runProbe(launcher, sbx, ['-p', '(version 1)(allow default)', ...target]);
    const closed = await runProbe(launcher, sbx, [
      '-p',
      '(version 1)(allow default)(deny network*)',
      ...target,
    ]);
    isolation.network =
      open.ok && !closed.ok
        ? {
            status: 'kernel',
            mechanism: 'Seatbelt network rules: none, localhost ports (bind/connect), or full',
          }
        : {
            status: 'unavailable',
            mechanism: 'Seatbelt network rules',
            reason: open.ok
              ? 'a deny rule did not stop a loopback connection'
              : `probe failed: ${open.error}`,
          };
  } finally {
    net.close();
  }
  for (const ns of ['user', 'pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'])
    isolation[`${ns}-namespace`] = {
      status: 'unavailable',
      mechanism: 'namespaces',
      reason: NO_NAMESPACES,
      fix: 'use Linux for namespace isolation',
    };
  isolation['host-uid'] = root
    ? { status: 'kernel', mechanism: `runs as unprivileged uid ${DEFAULT_SANDBOX_ID} (never 0)` }
    : { status: 'kernel', mechanism: `runs as the invoking uid ${uid}` };

  // The userspace monitor samples with ps: try it on this very process.
  const ps = await runProbe(launcher, input.psPath ?? PS_PATH, [
    '-o',
    'rss=',
    '-o',
    'time=',
    '-p',
    String(process.pid),
  ]);
  const [rss, time] = ps.stdout.trim().split(/\s+/);
  const psWorks = ps.ok && Number(rss) > 0 && parseCpuTime(time ?? '') !== undefined;
  for (const limit of ['memory', 'cpus'] as const) {
    limits[limit] = psWorks
      ? {
          status: 'userspace',
          mechanism: userspaceMechanism(limit, DEFAULT_INTERVAL_MS),
          reason:
            limit === 'memory'
              ? 'macOS has no memory cgroup; acts between samples only'
              : 'macOS has no CPU quota; an average over intervals',
        }
      : {
          status: 'unavailable',
          mechanism: 'ps(1) sampling',
          reason: ps.error || 'ps output could not be read',
        };
  }
  limits.pids = {
    status: 'unavailable',
    mechanism: 'RLIMIT_NPROC',
    reason: NPROC_REASON,
    fix: 'use Linux with cgroups for a pids limit',
  };

  const rl = await runProbe(launcher, sh, [
    '-c',
    'ulimit -S -c 0 && ulimit -S -t 5 && ulimit -H -t 6 && ulimit -S -n 64 && ulimit -H -n 64 && ulimit -S -f 2048 && ulimit -H -f 2048',
  ]);
  const rlimit = (name: string): Capability =>
    rl.ok
      ? { status: 'kernel', mechanism: `rlimit ${name} (ulimit in ${sh} before sandbox-exec)` }
      : { status: 'unavailable', mechanism: `rlimit ${name}`, reason: rl.error };
  limits.cpuTime = rlimit('RLIMIT_CPU (per process)');
  limits.nofile = rlimit('RLIMIT_NOFILE');
  limits.fsize = rlimit('RLIMIT_FSIZE');
  const as = await runProbe(launcher, sh, ['-c', 'ulimit -S -v 4194304']);
  limits.addressSpace = as.ok
    ? {
        status: 'kernel',
        mechanism: 'rlimit RLIMIT_AS (macos.addressSpace)',
        reason: 'best-effort: macOS accepts it but does not hold every allocation to it',
      }
    : { status: 'unavailable', mechanism: 'rlimit RLIMIT_AS', reason: as.error };
  limits.timeout = {
    status: 'userspace',
    mechanism: 'corral wall-clock timer, then SIGKILL of the process group and tree',
  };
  limits.output = { status: 'userspace', mechanism: 'corral truncates captured output at the cap' };

  return {
    platform: 'darwin',
    backend: 'darwin-seatbelt',
    release: input.release ?? osRelease(),
    user: { uid, root, sandboxUid: root ? DEFAULT_SANDBOX_ID : uid },
    cgroup: { version: null, base: null },
    isolation,
    limits,
    features: {
      cgroups: {
        status: 'unavailable',
        mechanism: 'cgroups',
        reason: 'macOS has no cgroups',
        fix: 'use Linux for kernel memory, CPU and pids limits',
      },
      seccomp: {
        status: 'unavailable',
        mechanism: 'seccomp',
        reason: 'macOS has no seccomp; Seatbelt filters operations instead',
      },
      'die-with-parent': {
        status: 'unavailable',
        mechanism: 'parent-death signal',
        reason:
          'macOS has none: a sandbox keeps running if its corral process is killed after start (before start, nothing runs)',
      },
      // Which exec tracer `run --trace` would use.
      ...(await tracerCapabilities(darwinTracerBackends(launcher))),
    },
    probeMs: Math.round(performance.now() - started),
  };
}
