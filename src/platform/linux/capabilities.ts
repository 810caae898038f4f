import { readFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import type { Capability, CapabilityReport } from '../../capabilities/types.js';
import type { ProcessLauncher } from '../../process/types.js';
import { DEFAULT_SANDBOX_ID } from '../../spec/resolve.js';
import type { CgroupDetection } from './cgroup/detect.js';
import { runCgroupName } from './cgroup/gc.js';
import { runProbe } from '../probe.js';
import { userspaceCapability } from './userspace-limits.js';
import { tracerCapabilities } from '../../trace/factory.js';
import { linuxTracerBackends } from './trace/backends.js';
import { bwrapFeatures } from './bwrap-features.js';
import { probeDisableUserns, probeSeccomp } from './seccomp/probe-seccomp.js';

export interface LinuxProbeInput {
  readonly cgroups: CgroupDetection;
  readonly launcher: ProcessLauncher;
  readonly bwrapPath: string | undefined;
  readonly prlimitPath: string | undefined;
  readonly uid?: number;
}

const NAMESPACES = [
  ['user', '--unshare-user'],
  ['pid', '--unshare-pid'],
  ['network', '--unshare-net'],
  ['ipc', '--unshare-ipc'],
  ['uts', '--unshare-uts'],
  ['cgroup', '--unshare-cgroup'],
] as const;

/** Probes, for real and with timeouts, everything the Linux backend could use. */
export async function probeLinux(input: LinuxProbeInput): Promise<CapabilityReport> {
  const started = performance.now();
  const uid = input.uid ?? process.getuid?.() ?? 0;
  const root = uid === 0;
  const asUser = root ? { uid: DEFAULT_SANDBOX_ID, gid: DEFAULT_SANDBOX_ID } : {};
  const isolation: Record<string, Capability> = {};
  const limits: Record<string, Capability> = {};
  const hardening: Record<string, Capability> = {};

  // --- isolation: one bubblewrap run with every namespace; per-namespace runs only on failure.
  const bwrap = input.bwrapPath;
  if (!bwrap) {
    const missing: Capability = {
      status: 'unavailable',
      mechanism: 'bubblewrap',
      reason: 'bwrap is not installed',
      fix: 'apt-get install bubblewrap',
    };
    for (const [ns] of NAMESPACES) isolation[`${ns}-namespace`] = missing;
    isolation.filesystem = missing;
  } else {
    const v = await runProbe(input.launcher, bwrap, ['--version']);
    const bwrapVersion = v.ok ? v.stdout.trim() : 'bubblewrap';
    const base = [
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--cap-drop',
      'ALL',
      '--die-with-parent',
    ];
    const all = await runProbe(
      input.launcher,
      bwrap,
      [...NAMESPACES.map(([, f]) => f), ...base, '--', '/bin/true'],
      asUser,
    );
    for (const [ns, flag] of NAMESPACES) {
      const r = all.ok
        ? all
        : await runProbe(
            input.launcher,
            bwrap,
            [flag, ...(flag === '--unshare-user' ? [] : ['--unshare-user']), ...base, '--', '/bin/true'],
            asUser,
          );
      isolation[`${ns}-namespace`] = r.ok
        ? { status: 'kernel', mechanism: `${bwrapVersion} ${flag}` }
        : {
            status: 'unavailable',
            mechanism: `${bwrapVersion} ${flag}`,
            reason: r.error,
            fix:
              ns === 'user'
                ? 'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces>0; on Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap)'
                : `a kernel with ${ns} namespaces`,
          };
    }
    isolation.filesystem = all.ok
      ? {
          status: 'kernel',
          mechanism: `${bwrapVersion} mount namespace: read-only root, private /tmp, /dev, /proc; /root /home /run /var/tmp hidden`,
        }
      : { status: 'unavailable', mechanism: 'mount namespace', reason: all.error, fix: 'see user-namespace' };
    isolation.capabilities = all.ok
      ? { status: 'kernel', mechanism: `${bwrapVersion} --cap-drop ALL, no_new_privs` }
      : { status: 'unavailable', mechanism: 'capability drop', reason: all.error };
    // --- system call filter and nested user namespaces, each tried in a real sandbox.
    const probe = {
      launcher: input.launcher,
      bwrapPath: bwrap,
      baseArgs: ['--unshare-user', '--unshare-pid', ...base],
      as: asUser,
      disableUserns: (await bwrapFeatures(input.launcher, bwrap)).disableUserns,
    };
    const [seccomp, nested] = await Promise.all([probeSeccomp(probe), probeDisableUserns(probe)]);
    hardening.seccomp = seccomp;
    hardening['nested-userns'] = nested;
  }
  isolation['host-uid'] = root
    ? { status: 'kernel', mechanism: `runs as unprivileged host uid ${DEFAULT_SANDBOX_ID} (never 0)` }
    : { status: 'kernel', mechanism: `runs as the invoking uid ${uid}` };

  // --- cgroups: create one, write each limit, remove it.
  const driver = input.cgroups.driver;
  const problem = input.cgroups.problems[0];
  const cgroupCaps = probeCgroupLimits(input.cgroups);
  Object.assign(limits, cgroupCaps);
  // What cgroups cannot hold here, the userspace monitors do (memory and cpus; never pids).
  for (const limit of ['memory', 'cpus'] as const) {
    const cap = limits[limit];
    if (cap?.status === 'unavailable') limits[limit] = userspaceCapability(limit, cap);
  }

  // --- rlimits: let prlimit set all of them on a real process.
  const rl = input.prlimitPath
    ? await runProbe(input.launcher, input.prlimitPath, [
        '--core=0:0',
        '--cpu=5:6',
        '--nofile=64:64',
        '--fsize=1048576:1048576',
        '/bin/true',
      ])
    : { ok: false, stdout: '', error: 'prlimit(1) is not installed' };
  const rlimit = (name: string): Capability =>
    rl.ok
      ? { status: 'kernel', mechanism: `rlimit ${name}` }
      : {
          status: 'unavailable',
          mechanism: `rlimit ${name}`,
          reason: rl.error,
          fix: 'apt-get install util-linux',
        };
  isolation['core-dumps'] = rl.ok
    ? { status: 'kernel', mechanism: 'rlimit RLIMIT_CORE=0 (soft and hard): sandboxes cannot dump core' }
    : {
        status: 'unavailable',
        mechanism: 'rlimit RLIMIT_CORE',
        reason: rl.error,
        fix: 'apt-get install util-linux',
      };
  limits.cpuTime = rlimit('RLIMIT_CPU (per process)');
  limits.nofile = rlimit('RLIMIT_NOFILE');
  limits.fsize = rlimit('RLIMIT_FSIZE');
  limits.timeout = {
    status: 'userspace',
    mechanism: 'corral wall-clock timer, then SIGKILL of the pid namespace',
  };
  limits.output = { status: 'userspace', mechanism: 'corral truncates captured output at the cap' };

  return {
    platform: 'linux',
    backend: 'linux-bubblewrap',
    release: osRelease(),
    user: { uid, root, sandboxUid: root ? DEFAULT_SANDBOX_ID : uid },
    cgroup: { version: driver?.version ?? null, base: driver?.base ?? null },
    isolation,
    limits,
    features: {
      cgroups: driver
        ? {
            status: 'kernel',
            mechanism: `cgroup-${driver.version} at ${driver.base}`,
            ...(problem && { reason: problem.reason, fix: problem.fix }),
          }
        : {
            status: 'unavailable',
            mechanism: 'cgroups',
            reason: problem?.reason ?? 'not detected',
            fix: problem?.fix ?? '',
          },
      swap: swapCapability(),
      ...hardening,
      // Which exec tracer `run --trace` would use, and why the others would not do.
      ...(await tracerCapabilities(linuxTracerBackends())),
    },
    probeMs: Math.round(performance.now() - started),
  };
}

function probeCgroupLimits(detection: CgroupDetection): Record<string, Capability> {
  const out: Record<string, Capability> = {};
  const driver = detection.driver;
  const problem = detection.problems[0];
  const trial = { memory: { memoryBytes: 64 << 20 }, cpus: { cpus: 0.5 }, pids: { pids: 64 } } as const;
  const controllerOf = { memory: 'memory', cpus: 'cpu', pids: 'pids' } as const;
  for (const limit of ['memory', 'cpus', 'pids'] as const) {
    const controller = controllerOf[limit];
    if (!driver || !driver.controllers.has(controller)) {
      out[limit] = {
        status: 'unavailable',
        mechanism: `cgroup ${controller}`,
        reason: problem?.reason ?? `the ${controller} controller is not available`,
        fix: problem?.fix ?? `enable the cgroup ${controller} controller`,
      };
      continue;
    }
    try {
      const cg = driver.create(runCgroupName());
      try {
        const applied = cg.apply(trial[limit]);
        out[limit] = {
          status: 'kernel',
          mechanism: applied[limit] ?? `cgroup-${driver.version} ${controller}`,
        };
      } finally {
        void cg.destroy().catch(() => undefined);
      }
    } catch (err) {
      out[limit] = {
        status: 'unavailable',
        mechanism: `cgroup-${driver.version} ${controller}`,
        reason: (err as Error).message,
        fix: 'run as root, or delegate a cgroup subtree to this user',
      };
    }
  }
  return out;
}

/** With swap on and no memsw/swap.max control, a memory limit can be exceeded into swap. */
function swapCapability(): Capability {
  try {
    const lines = readFileSync('/proc/swaps', 'utf8').trim().split('\n');
    return lines.length <= 1
      ? { status: 'kernel', mechanism: 'no swap configured: memory limits are not bypassed through swap' }
      : {
          status: 'kernel',
          mechanism: 'swap present; corral caps it (memsw / memory.swap.max) where the kernel allows',
        };
  } catch {
    return { status: 'unavailable', mechanism: 'swap', reason: '/proc/swaps unreadable' };
  }
}
