import { TracerCore } from '../../../trace/tracer-core.js';
import type { TraceTarget } from '../../../trace/types.js';
import { descendantsOf } from '../proc-tree.js';
import { CaptureHub, type HubOptions, type HubSource, type Lease } from './capture-hub.js';

/**
 * A tracer fed by the kernel's own events through a capture shared by every tracer of its kind
 * in this corral process (capture-hub.ts). Subclasses say which source and how it is set up.
 */
export abstract class HubTracer extends TracerCore {
  private hub: CaptureHub | undefined;
  private lease: Lease | undefined;
  private id: number | undefined;

  protected abstract readonly source: HubSource;
  /** The options of the hub's capture; none: the hub's own (nothing to set for eBPF). */
  protected hubOptions(): HubOptions | undefined {
    return undefined;
  }

  /** How the capture is scheduled (null: normal priority). */
  get realtime(): string | null {
    return this.hub?.realtime ?? null;
  }

  /** Host pid of the capture process, while tracing. */
  get capturePid(): number | undefined {
    return this.hub?.capturePid;
  }

  protected async open(target: TraceTarget, label: string): Promise<void> {
    const hub = CaptureHub.get(this.source, this.hubOptions());
    this.lease = await hub.acquire();
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
      this.lease,
    );
  }

  protected async close(): Promise<void> {
    const { hub, lease } = this;
    this.hub = undefined;
    this.lease = undefined;
    if (!hub || !lease) return;
    if (this.id !== undefined) await hub.remove(this.id, lease);
    await hub.release(lease);
  }
}
