import { TracerCore } from '../../../trace/tracer-core.js';
import type { TraceTarget } from '../../../trace/types.js';
import { descendantsOf } from '../proc-tree.js';
import { CaptureHub, type CaptureKind, type HubOptions } from './capture-hub.js';

/**
 * A tracer fed by the kernel's own events through a capture shared by every tracer of its kind
 * in this corral process (capture-hub.ts). Subclasses say which kind and how it is set up.
 */
export abstract class HubTracer extends TracerCore {
  private hub: CaptureHub | undefined;
  private id: number | undefined;

  protected abstract readonly captureKind: CaptureKind;
  protected abstract hubOptions(): HubOptions;

  /** How the capture is scheduled (null: normal priority). */
  get realtime(): string | null {
    return this.hub?.realtime ?? null;
  }

  /** Host pid of the capture process, while tracing. */
  get capturePid(): number | undefined {
    return this.hub?.capturePid;
  }

  protected async open(target: TraceTarget, label: string): Promise<void> {
    const hub = CaptureHub.get(this.captureKind, this.hubOptions());
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
