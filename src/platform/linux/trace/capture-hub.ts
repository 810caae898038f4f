import type { TraceEvent } from '../../../trace/types.js';
import { CaptureError, type Capture, type CaptureOptions } from './capture-process.js';
import { SandboxFilter, type Routed } from './sandbox-filter.js';

export interface HubOptions {
  /** Ask for SCHED_FIFO priority 1 for a proc connector capture (see ProcConnectorOptions.realtime). */
  readonly realtime: boolean;
  /** SO_RCVBUF for each netlink socket, bytes. */
  readonly receiveBuffer: number;
  /** How long to wait for the kernel's reply to the subscription, ms. */
  readonly subscribeTimeoutMs: number;
}

/** Where a hub's events come from (hub-sources.ts has the proc connector's and eBPF's). */
export interface HubSource {
  /** Starts a capture that reports to `handlers`, reading at least every `flushMs`. */
  open(options: HubOptions, flushMs: number, handlers: CaptureOptions): Promise<Capture>;
  /** The error for a capture that could not start, with what to do about it. */
  unavailable(err: CaptureError): Error;
  /** What the tracers are told when the kernel dropped events. */
  readonly overflow: string;
}

interface Sink {
  readonly label: string;
  readonly deliver: (event: TraceEvent) => void;
}

/** One running capture, the filter that sorts its events into sandboxes, and who uses it. */
interface Session {
  readonly opened: Promise<Capture>;
  capture?: Capture;
  readonly filter: SandboxFilter;
  dead: boolean;
  users: number;
}

/** What acquire() hands out and release() takes back: one use of one capture. */
export type Lease = Readonly<Session>;

// The capture hands its events over at most this late, and reads the kernel's ordered stream (or
// the eBPF ring buffer) at least this often. A tenth of a second is still live for a person
// watching; each hand-over wakes corral, and with 2 CPUs every wake-up is taken from the sandbox
// (bench:trace, 1000 execs: 20 ms measured about 0.03x more than 200 ms). stop() does not wait
// for it: it drains.
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
  private static readonly shared = new Map<HubSource, CaptureHub>();
  private session: Session | undefined;
  /** A session a probe started and left for the next tracer, with the probe's use still on it. */
  private lingering: Session | undefined;
  private nextId = 1;
  private readonly sinks = new Map<number, Sink>();
  private linger: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: HubSource,
    private options: HubOptions = { realtime: false, receiveBuffer: 1 << 20, subscribeTimeoutMs: 1000 },
  ) {}

  /** The process-wide hub of this source. Options, if given, apply when its capture (re)starts. */
  static get(source: HubSource, options?: HubOptions): CaptureHub {
    let hub = CaptureHub.shared.get(source);
    if (!hub) CaptureHub.shared.set(source, (hub = new CaptureHub(source)));
    if (options) hub.options = options;
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
    const lease = (await this.acquire()) as Session;
    if (lease.users > 1) {
      void this.release(lease); // someone else uses it already
      return;
    }
    this.lingering = lease;
    this.linger = setTimeout(() => {
      this.lingering = undefined;
      void this.release(lease);
    }, lingerMs);
    this.linger.unref();
  }

  /** Starts the capture if needed; resolves when the kernel reports to it. */
  async acquire(): Promise<Lease> {
    clearTimeout(this.linger);
    const s = (this.session ??= this.boot());
    // The use a probe left on it passes to this one.
    if (this.lingering !== s) s.users++;
    this.lingering = undefined;
    try {
      await s.opened;
    } catch (err) {
      s.users = Math.max(0, s.users - 1);
      if (this.session === s) this.session = undefined;
      throw err;
    }
    return s;
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
    lease: Lease,
  ): Promise<number> {
    const id = this.nextId++;
    this.sinks.set(id, { label: target.label, deliver });
    const s = lease as Session;
    if (!s.capture || s.dead) {
      // It died between acquire and here: an empty record must not look complete.
      const reason = 'the trace capture ended before this sandbox could be followed';
      deliver({ type: 'lost', timestamp: new Date().toISOString(), sandbox: target.label, reason });
      return id;
    }
    const { label, initPid, cgroupName, joiners, existing } = target;
    this.route(s.filter.add({ id, label, initPid, cgroupName, joiners }, existing));
    s.capture.follow([initPid, ...existing]);
    if (joiners && cgroupName) s.capture.followCgroup(cgroupName, true);
    // Answered once the capture has read the lines above: from then on it follows the target.
    await s.capture.drain();
    return id;
  }

  /** Delivers everything the kernel reported up to now for `id`, then forgets it. */
  async remove(id: number, lease: Lease): Promise<void> {
    const s = lease as Session;
    if (s.capture && !s.dead) {
      await s.capture.drain();
      const target = s.filter.target(id);
      s.filter.remove(id);
      if (target?.joiners && target.cgroupName && !s.filter.joins(target.cgroupName))
        s.capture.followCgroup(target.cgroupName, false);
    }
    this.sinks.delete(id);
  }

  /** Ends one use; the last one of the current capture closes it. */
  async release(lease: Lease): Promise<void> {
    const s = lease as Session;
    s.users = Math.max(0, s.users - 1);
    // A capture that died was replaced: its users' releases must not touch the new one.
    if (s.users > 0 || this.session !== s) return;
    // Detached first: a tracer starting meanwhile gets a fresh capture, not this closing one.
    this.session = undefined;
    s.dead = true;
    await s.capture?.close();
  }

  private boot(): Session {
    const options = this.options;
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
        this.route(filter.lost(this.source.overflow));
      },
      onError: (err) => this.died(s, err.message),
    };
    const opening = this.source.open(options, FLUSH_MS, handlers);
    const s: Session = {
      filter,
      dead: false,
      users: 0,
      opened: opening.then(
        (capture) => (s.capture = capture),
        (err: unknown) => {
          s.dead = true;
          if (err instanceof CaptureError) throw this.source.unavailable(err);
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
    const timestamp = new Date().toISOString();
    for (const sink of this.sinks.values())
      sink.deliver({ type: 'lost', timestamp, sandbox: sink.label, reason });
  }
}
