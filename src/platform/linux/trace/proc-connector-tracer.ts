import { TracerCore } from '../../../trace/tracer-core.js';
import type { TraceTarget } from '../../../trace/types.js';
import { descendantsOf } from '../proc-tree.js';
import { ConnectorHub } from './connector-hub.js';

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
export class ProcConnectorTracer extends TracerCore {
  readonly backend = 'proc-connector';
  private hub: ConnectorHub | undefined;
  private id: number | undefined;

  constructor(private readonly options: ProcConnectorOptions = {}) {
    super();
  }

  /** How the capture is scheduled (null: normal priority). */
  get realtime(): string | null {
    return this.hub?.realtime ?? null;
  }

  /** Host pid of the capture that holds the netlink sockets, while tracing. */
  get capturePid(): number | undefined {
    return this.hub?.capturePid;
  }

  protected async open(target: TraceTarget, label: string): Promise<void> {
    const hub = ConnectorHub.get({
      realtime: this.options.realtime ?? true,
      receiveBuffer: this.options.receiveBuffer ?? 8 << 20,
      subscribeTimeoutMs: this.options.subscribeTimeoutMs ?? 1000,
    });
    await hub.acquire();
    this.hub = hub;
    // Processes already in the sandbox (attaching to a running one): adopt them now; later
    // forks are followed from the events.
    const existing = new Set([...(target.cgroupProcs?.() ?? []), ...descendantsOf(target.initPid)]);
    this.id = await hub.add(
      {
        label,
        initPid: target.initPid,
        cgroupName: target.cgroupName,
        joiners: target.joiners ?? false,
        existing: [...existing],
      },
      (e) => this.emit(e),
    );
  }

  protected async close(): Promise<void> {
    const hub = this.hub;
    this.hub = undefined;
    if (!hub) return;
    if (this.id !== undefined) await hub.remove(this.id);
    await hub.release();
  }
}
