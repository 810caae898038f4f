import { UnsupportedError } from '../../../errors.js';
import type { TraceEvent } from '../../../trace/types.js';
import { CaptureError, type Capture, type CaptureOptions } from './capture-process.js';
import { captureFix, openConnectorCapture } from './connector-capture.js';
import { bpfFix, openBpfCapture } from './ebpf/bpf-capture.js';
import { SandboxFilter, type Routed } from './sandbox-filter.js';

/** Where the events come from: the proc connector (netlink) or corral's eBPF programs. */
export type CaptureKind = 'proc-connector' | 'ebpf';

export interface HubOptions {
  /** Ask for SCHED_FIFO priority 1 for a proc connector capture (see ProcConnectorOptions.realtime). */
  readonly realtime: boolean;
  /** SO_RCVBUF for each netlink socket, bytes. */
  readonly receiveBuffer: number;
  /** How long to wait for the kernel's reply to the subscription, ms. */
  readonly subscribeTimeoutMs: number;
}

interface Sink {
  readonly label: string;
  readonly deliver: (event: TraceEvent) => void;
}

/** One running capture, and the filter that sorts its events into sandboxes. */
interface Session {
  readonly opened: Promise<Capture>;
  capture?: Capture;
  readonly filter: SandboxFilter;
  dead: boolean;
}

// The capture hands its events over at most this late, and reads the kernel's ordered stream (or
// the eBPF ring buffer) at least this often. A tenth of a second is still live for a person watching; each hand-over
// wakes corral, and with 2 CPUs every wake-up is taken from the sandbox (bench:trace, 1000 execs:
// 20 ms measured about 0.03x more than 200 ms). stop() does not wait for it: it drains.
const FLUSH_MS = 100;

/**
 * One capture of each kind per corral process, shared by every tracer in it: the kernel reports
 * each event once per listener, so one capture for N sandboxes costs N times less than N. The
 * capture (a small perl process) does the time-critical part: it follows the traced processes,
 * has each exec's argv read while the process still runs it, and drops the rest of the host.
 * What it passes on arrives here in batches, and is sorted into sandboxes by a SandboxFilter. It
 * starts with the first tracer and ends after the last one stops.
 */
export class CaptureHub {
  private static readonly shared = new Map<CaptureKind, CaptureHub>();
  private session: Session | undefined;
  private users = 0;
  private nextId = 1;
  private readonly sinks = new Map<number, Sink>();
  private options: HubOptions | undefined;
  private linger: NodeJS.Timeout | undefined;

  private constructor(private readonly kind: CaptureKind) {}

  /** The process-wide hub of this kind. Options apply when its capture (re)starts. */
  static get(kind: CaptureKind, options: HubOptions): CaptureHub {
    let hub = CaptureHub.shared.get(kind);
    if (!hub) CaptureHub.shared.set(kind, (hub = new CaptureHub(kind)));
    hub.options = options;
    return hub;
  }

  /** How the capture is scheduled, e.g. `SCHED_FIFO 1 (pid 123)`; null if normally. */
  get realtime(): string | null {
    return this.session?.capture?.realtime ?? null;
  }

  /** Host pid of the capture process while it runs. */
  get capturePid(): number | undefined {
    return this.session?.capture?.pid;
  }

  /**
   * Starts a capture for real and lets it go, resolving once it ran (rejecting as acquire()
   * does). The capture is kept a moment for a tracer that starts next (what a probe is usually
   * followed by): starting one costs tens of milliseconds, most of it the kernel's verifier.
   */
  async probe(lingerMs: number): Promise<void> {
    await this.acquire();
    this.users--;
    if (this.users > 0) return;
    clearTimeout(this.linger);
    this.linger = setTimeout(() => void this.release(0), lingerMs);
    this.linger.unref();
  }

  /** Starts the capture if needed; resolves when the kernel reports to it. */
  async acquire(): Promise<void> {
    clearTimeout(this.linger);
    this.users++;
    const s = (this.session ??= this.boot());
    try {
      await s.opened;
    } catch (err) {
      this.users = Math.max(0, this.users - 1);
      if (this.session === s) this.session = undefined;
      throw err;
    }
  }

  async add(
    target: {
      label: string;
      initPid: number;
      cgroupName: string | undefined;
      joiners: boolean;
      existing: number[];
    },
    deliver: (event: TraceEvent) => void,
  ): Promise<number> {
    const id = this.nextId++;
    this.sinks.set(id, { label: target.label, deliver });
    const s = this.session;
    if (!s?.capture) return id;
    const { label, initPid, cgroupName, joiners, existing } = target;
    this.route(s.filter.add({ id, label, initPid, cgroupName, joiners }, existing));
    s.capture.follow([initPid, ...existing]);
    if (joiners && cgroupName) s.capture.followCgroup(cgroupName, true);
    // Answered once the capture has read the lines above: from then on it follows the target.
    await s.capture.drain();
    return id;
  }

  /** Delivers everything the kernel reported up to now for `id`, then forgets it. */
  async remove(id: number): Promise<void> {
    const s = this.session;
    if (s?.capture && !s.dead) {
      await s.capture.drain();
      const target = s.filter.target(id);
      s.filter.remove(id);
      if (target?.joiners && target.cgroupName && !s.filter.joins(target.cgroupName))
        s.capture.followCgroup(target.cgroupName, false);
    }
    this.sinks.delete(id);
  }

  async release(count = 1): Promise<void> {
    this.users = Math.max(0, this.users - count);
    const s = this.session;
    if (this.users > 0 || !s) return;
    // Detached first: a tracer starting meanwhile gets a fresh capture, not this closing one.
    this.session = undefined;
    s.dead = true;
    await s.capture?.close();
  }

  private boot(): Session {
    const options = this.options as HubOptions;
    const filter = new SandboxFilter();
    const handlers: CaptureOptions = {
      onEvents: (events) => {
        if (s.dead) return;
        const out: Routed[] = [];
        for (const ev of events) {
          const r = filter.handle(ev);
          if (r) out.push(r);
        }
        this.route(out);
      },
      onOverflow: () => {
        if (s.dead) return;
        // The tree may have holes now: the capture lets everything through, the filter decides.
        s.capture?.passAll();
        this.route(
          filter.lost(
            this.kind === 'ebpf'
              ? 'the kernel dropped process events: the ring buffer was full'
              : 'the kernel dropped process events: the socket buffer was full',
          ),
        );
      },
      onError: (err) => this.died(s, err.message),
    };
    const opening =
      this.kind === 'ebpf'
        ? openBpfCapture({ flushMs: FLUSH_MS, ...handlers })
        : openConnectorCapture({
            receiveBuffer: options.receiveBuffer,
            subscribeTimeoutMs: options.subscribeTimeoutMs,
            flushMs: FLUSH_MS,
            realtime: options.realtime,
            ...handlers,
          });
    const s: Session = {
      filter,
      dead: false,
      opened: opening.then(
        (capture) => (s.capture = capture),
        (err: unknown) => {
          s.dead = true;
          // The capture's own words stay in the details, for a capability report to quote.
          if (err instanceof CaptureError)
            throw this.kind === 'ebpf'
              ? new UnsupportedError(`the eBPF tracer is not available: ${err.message}`, bpfFix(err.code), {
                  reason: err.message,
                })
              : new UnsupportedError(
                  `the proc connector is not available: ${err.message}`,
                  captureFix(err.code),
                  { reason: err.message },
                );
          throw err;
        },
      ),
    };
    return s;
  }

  private route(routed: readonly Routed[]): void {
    for (const { id, event } of routed) this.sinks.get(id)?.deliver(event);
  }

  /** The capture died unexpectedly: every tracer is told its record is incomplete. */
  private died(s: Session, reason: string): void {
    if (s.dead) return;
    s.dead = true;
    if (this.session !== s) return;
    this.session = undefined;
    this.users = 0;
    const timestamp = new Date().toISOString();
    for (const sink of this.sinks.values())
      sink.deliver({ type: 'lost', timestamp, sandbox: sink.label, reason });
  }
}
