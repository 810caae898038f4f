import { readFileSync } from 'node:fs';
import { Btf, BtfError } from '../../ebpf/btf.js';
import {
  CaptureError,
  ERRNO_NAMES,
  PERL_FIX,
  openCapture,
  type Capture,
  type CaptureOptions,
} from '../capture-process.js';
import { BPF_CAPTURE_SCRIPT } from './capture-script.js';
import { cgroupKeys } from './cgroup-keys.js';
import { kernelLayout } from './kernel-layout.js';
import { probePrograms } from './probe-programs.js';
import { CGROUPS_MAX, FOLLOWED_MAX, RING_BYTES, SCRATCH_BYTES } from './record-format.js';

export interface BpfCaptureOptions extends CaptureOptions {
  /** How often the capture reads the ring buffer, ms (it reads at once on `drain`). */
  readonly flushMs: number;
}

/**
 * System call numbers of bpf(2), mmap(2) and prlimit64(2), which perl's syscall() needs. x86_64 only: the
 * capture reads the ring buffer with plain loads, which x86's ordering of loads makes safe
 * against the kernel's writes; arm64 would need load-acquire barriers that perl cannot issue,
 * and a record read early could come out stale. There the proc connector tracer is used.
 */
const SYSCALLS: Readonly<Record<string, readonly [bpf: number, mmap: number, prlimit64: number]>> = {
  x64: [321, 9, 302],
};

const MAP_HASH = 1;
const MAP_ARRAY = 2;
const MAP_RINGBUF = 27;

interface Plan {
  /** The system call numbers: the arguments before the flush interval. */
  readonly syscalls: string[];
  /** The maps and programs: the arguments after it. */
  readonly objects: string[];
  readonly subsystemId: (controller: string) => number | undefined;
}

/** CPUs the kernel may ever bring up (the scratch map has a record per CPU). */
function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  let max = 0;
  for (const part of text.split(',')) max = Math.max(max, ...part.split('-').map(Number));
  if (!Number.isInteger(max)) throw new Error(`unreadable /sys/devices/system/cpu/possible: ${text}`);
  return max + 1;
}

let cached: Plan | undefined;

/**
 * The capture's arguments for this kernel: programs generated from its BTF, the maps they use.
 * Computed once per process (BTF takes ~60 ms to read and index).
 */
function plan(): Plan {
  if (cached) return cached;
  const sys = SYSCALLS[process.arch];
  if (!sys)
    throw new CaptureError(
      `corral's eBPF tracer runs on x86_64 only (its ring buffer reader relies on x86 memory ordering), not ${process.arch}`,
      'EARCH',
    );
  let btf: Btf;
  let programs: ReturnType<typeof probePrograms>;
  try {
    btf = Btf.kernel();
    programs = probePrograms(kernelLayout(btf));
  } catch (err) {
    if (err instanceof BtfError) throw new CaptureError(err.message, 'ENOBTF');
    throw err;
  }
  // Read now, so the BTF (megabytes) is not kept alive by the plan.
  const subsystems = new Map<string, number>();
  for (const [name, value] of btf.enumerators('cgroup_subsys_id'))
    if (name.endsWith('_cgrp_id')) subsystems.set(name.slice(0, -'_cgrp_id'.length), value);
  const maps = [
    [MAP_RINGBUF, 0, 0, RING_BYTES, 'corral_events'],
    [MAP_HASH, 4, 4, FOLLOWED_MAX, 'corral_followed'],
    [MAP_HASH, 16, 4, CGROUPS_MAX, 'corral_cgroups'],
    [MAP_ARRAY, 4, 8, 1, 'corral_config'],
    [MAP_ARRAY, 4, 8, 2, 'corral_stats'],
    [MAP_ARRAY, 4, SCRATCH_BYTES, possibleCpus(), 'corral_scratch'],
  ].map(([type, key, value, max, name]) => `${type}:${key}:${value}:${max}:0:${name}`);
  cached = {
    syscalls: sys.map(String),
    objects: [...maps, ...programs.map((p) => `${p.tracepoint}:${p.name}:${p.insns.toString('hex')}`)],
    // v1 mount options name controllers as v1 does: blkio is the io subsystem.
    subsystemId: (c) => subsystems.get(c === 'blkio' ? 'io' : c),
  };
  return cached;
}

/** The capture's arguments (see ebpf/capture-script.ts) for this kernel; throws a CaptureError. */
export function bpfCaptureArgs(flushMs: number): string[] {
  const { syscalls, objects } = plan();
  return [...syscalls, String(flushMs), ...objects];
}

/** What to do about an eBPF capture that could not start, by its error's code. */
export function bpfFix(code: string | undefined): string {
  switch (code) {
    case 'EPERM':
      return 'run corral as root (loading tracing programs needs CAP_BPF and CAP_PERFMON)';
    case 'ENOBTF':
      return 'a kernel built with CONFIG_DEBUG_INFO_BTF (every current Debian and Ubuntu kernel is)';
    case 'EARCH':
      return 'the proc connector tracer, which works on every architecture';
    case 'ENOPERL':
      return PERL_FIX;
    case 'EINVAL':
      return 'Linux >= 5.8 (BPF ring buffers); elsewhere the proc connector tracer';
    default:
      return 'the proc connector tracer works without eBPF';
  }
}

/**
 * Starts the eBPF capture (ebpf/capture-script.ts): programs on the sched_process_fork, exec
 * and exit tracepoints follow the traced processes in the kernel and copy each exec's argv, exe
 * and cwd as it happens; the capture reads their ring buffer every flushMs. Rejects when the
 * kernel has no BTF, refuses the programs (not root, too old), or perl is missing.
 */
export function openBpfCapture(options: BpfCaptureOptions): Promise<Capture> {
  let p: Plan;
  try {
    p = plan();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return openCapture(
    {
      script: BPF_CAPTURE_SCRIPT,
      args: bpfCaptureArgs(options.flushMs),
      // The verifier checks the programs before the capture says it is ready (~20 ms here).
      startTimeoutMs: 10_000,
      refused: (errno, why) =>
        new CaptureError(
          `the kernel refused corral's eBPF programs: ${why} (errno ${errno})`,
          ERRNO_NAMES[errno],
        ),
      cgroupCommand: (name, on) => {
        if (!on) return `c ${name}`;
        const keys = cgroupKeys(name, p.subsystemId).map((k) => `${k.hierarchy}:${k.id}`);
        return ['C', name, ...keys].join(' ');
      },
    },
    options,
  );
}
