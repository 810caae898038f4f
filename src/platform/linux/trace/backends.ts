import { existsSync } from 'node:fs';
import { UnsupportedError } from '../../../errors.js';
import type { ProbeResult, TracerBackend } from '../../../trace/backend.js';
import { captureFix, openConnectorCapture } from './connector-capture.js';
import { CaptureHub } from './capture-hub.js';
import { EBPF_SOURCE } from './hub-sources.js';
import { bpfFix } from './ebpf/bpf-capture.js';
import { EbpfTracer } from './ebpf-tracer.js';
import { ProcConnectorTracer } from './proc-connector-tracer.js';
import { ProcPollTracer } from './proc-poll-tracer.js';

let connectorProbe: Promise<ProbeResult> | undefined;
let bpfProbe: Promise<ProbeResult> | undefined;

const ignore = { onEvents: () => undefined, onOverflow: () => undefined, onError: () => undefined };

/**
 * Loads and attaches the programs for real (the verifier has the last word), through the hub the
 * tracer would use: the capture is then kept a moment for it.
 */
function probeBpf(): Promise<ProbeResult> {
  bpfProbe ??= (async (): Promise<ProbeResult> => {
    try {
      await CaptureHub.get(EBPF_SOURCE).probe(2000);
      return { ok: true };
    } catch (err) {
      if (err instanceof UnsupportedError)
        return { ok: false, reason: String(err.details.reason), fix: err.fix ?? bpfFix(undefined) };
      return { ok: false, reason: `eBPF: ${(err as Error).message}`, fix: bpfFix(undefined) };
    }
  })();
  return bpfProbe;
}

/** Subscribes for real and unsubscribes at once; the answer is cached for the process. */
function probeConnector(): Promise<ProbeResult> {
  connectorProbe ??= (async (): Promise<ProbeResult> => {
    try {
      const s = await openConnectorCapture({
        receiveBuffer: 64 << 10,
        subscribeTimeoutMs: 1000,
        flushMs: 100,
        realtime: false,
        ...ignore,
      });
      await s.close();
      return { ok: true };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const reason =
        e.code === 'EPERM'
          ? 'subscribing to the proc connector needs CAP_NET_ADMIN (root) on kernels before 6.6'
          : e.code === 'ENOPERL'
            ? e.message
            : `proc connector: ${e.message}`;
      return { ok: false, reason, fix: captureFix(e.code) };
    }
  })();
  return connectorProbe;
}

function probeProcPoll(): Promise<ProbeResult> {
  // Finding a sandbox's processes without a cgroup walks /proc/PID/task/TID/children.
  const ok = existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
  return Promise.resolve(
    ok
      ? { ok: true }
      : {
          ok: false,
          reason: '/proc/PID/task/TID/children is missing (kernel without CONFIG_PROC_CHILDREN)',
          fix: 'a kernel with CONFIG_PROC_CHILDREN, or run as root for the proc connector',
        },
  );
}

/** Linux tracers, best first. */
export function linuxTracerBackends(): TracerBackend[] {
  return [
    {
      name: 'ebpf',
      mechanism:
        'eBPF on the sched_process_fork/exec/exit tracepoints: the kernel follows the sandbox and copies argv, exe and cwd at each exec, read every 100 ms; nothing wakes per event',
      kind: 'kernel',
      limitation:
        'argv beyond 32 KiB is completed from /proc while the process runs, else reported as truncated',
      probe: probeBpf,
      create: () => new EbpfTracer(),
    },
    {
      name: 'proc-connector',
      mechanism:
        'proc connector (netlink): fork/exec/exit from the kernel in real time, argv read from /proc at exec by a real-time capture',
      kind: 'kernel',
      limitation: 'argv of a process that exits before it is read is reported as not captured',
      probe: probeConnector,
      create: (o) => new ProcConnectorTracer(o.realtime === undefined ? {} : { realtime: o.realtime }),
    },
    {
      name: 'proc-poll',
      mechanism: 'polling /proc for the sandbox cgroup and process tree',
      kind: 'userspace',
      limitation: 'misses processes that live shorter than the interval; exit statuses unknown',
      probe: probeProcPoll,
      create: (o) => new ProcPollTracer(o.intervalMs === undefined ? {} : { intervalMs: o.intervalMs }),
    },
  ];
}
