import type { HubOptions } from './capture-hub.js';
import { HubTracer } from './hub-tracer.js';
import { CONNECTOR_SOURCE } from './hub-sources.js';

export interface ProcConnectorOptions {
  /**
   * Run the capture at real-time priority (SCHED_FIFO 1, through chrt), so argv of
   * short-lived processes is read before they exit. Falls back to normal priority when that is
   * refused. Default: true.
   */
  readonly realtime?: boolean;
  /** Kernel receive buffer of each netlink socket, in bytes. Default: 8 MiB. */
  readonly receiveBuffer?: number;
  /** How long to wait for the kernel to accept the subscription. Default: 1000 ms. */
  readonly subscribeTimeoutMs?: number;
}

/**
 * Linux (root; any user since kernel 6.6): the kernel's proc connector reports every fork, exec
 * and exit on the host in real time. A capture shared by the tracers of one corral process (a
 * small perl program at real-time priority) follows the traced sandboxes' processes, reads each
 * exec's argv, cwd and exe from /proc at once, and drops the rest of the host's events.
 */
export class ProcConnectorTracer extends HubTracer {
  readonly backend = 'proc-connector';
  protected readonly source = CONNECTOR_SOURCE;

  constructor(private readonly options: ProcConnectorOptions = {}) {
    super();
  }

  protected override hubOptions(): HubOptions {
    return {
      realtime: this.options.realtime ?? true,
      receiveBuffer: this.options.receiveBuffer ?? 8 << 20,
      subscribeTimeoutMs: this.options.subscribeTimeoutMs ?? 1000,
    };
  }
}
