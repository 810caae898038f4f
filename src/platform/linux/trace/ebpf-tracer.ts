import { HubTracer } from './hub-tracer.js';
import { EBPF_SOURCE } from './hub-sources.js';

/**
 * Linux (root, BTF, kernel >= 5.8): corral's eBPF programs on the sched_process_fork, exec and
 * exit tracepoints follow the traced sandboxes' processes inside the kernel and copy each exec's
 * argv, exe and cwd while the exec happens, into a ring buffer that a capture shared by the
 * tracers of one corral process reads ten times a second. No process wakes up per event, so a
 * burst of short execs costs the sandbox almost nothing, and argv is never lost to a fast exit.
 */
export class EbpfTracer extends HubTracer {
  readonly backend = 'ebpf';
  protected readonly source = EBPF_SOURCE;
}
