import { UnsupportedError } from '../../../errors.js';
import type { TraceEvent } from '../../../trace/types.js';
import {
  CaptureError,
  captureFix,
  openConnectorCapture,
  type ConnectorCapture,
} from './connector-capture.js';
import { SandboxFilter, type Routed } from './sandbox-filter.js';

export interface HubOptions {
  /** Ask for SCHED_FIFO priority 1 for the capture (see ProcConnectorOptions.realtime). */
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
  readonly opened: Promise<ConnectorCapture>;
  capture?: ConnectorCapture;
  readonly filter: SandboxFilter;
  dead: boolean;
}

// The capture hands its events over at most this late, and reads the kernel's ordered stream at
// least this often. A tenth of a second is still live for a person watching; each hand-over
// wakes corral, and with 2 CPUs every wake-up is taken from the sandbox (bench:trace, 1000 execs:
// 20 ms measured about 0.03x more than 200 ms). stop() does not wait for it: it drains.
const FLUSH_MS = 100;

/**
 * One proc connector capture per corral process, shared by every tracer in it: the kernel sends
 * each event once per socket, so one socket for N sandboxes costs N times less than N sockets.
 * The capture (a small perl process, see capture-script.ts) does the time-critical part: it
 * reads each exec's argv the moment it is reported, and drops what is not followed. What it
 * passes on arrives here in batches, and is sorted into sandboxes by a SandboxFilter. It starts
 * with the first tracer and ends (socket closed) after the last one stops.
 */
export class ConnectorHub {
  private static shared: ConnectorHub | undefined;
  private session: Session | undefined;
  private users = 0;
  private nextId = 1;
  private readonly sinks = new Map<number, Sink>();
  private options: HubOptions | undefined;

  /** The process-wide hub. Options apply when its capture (re)starts. */
  static get(options: HubOptions): ConnectorHub {
    ConnectorHub.shared ??= new ConnectorHub();
    ConnectorHub.shared.options = options;
    return ConnectorHub.shared;
  }

  /** How the capture is scheduled, e.g. `SCHED_FIFO 1 (pid 123)`; null if normally. */
  get realtime(): string | null {
    return this.session?.capture?.realtime ?? null;
  }

  /** Host pid of the capture process while it runs. */
  get capturePid(): number | undefined {
    return this.session?.capture?.pid;
  }

  /** Starts the capture if needed; resolves when the kernel has accepted the subscription. */
  async acquire(): Promise<void> {
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

  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
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
    const s: Session = {
      filter,
      dead: false,
      opened: openConnectorCapture({
        receiveBuffer: options.receiveBuffer,
        subscribeTimeoutMs: options.subscribeTimeoutMs,
        flushMs: FLUSH_MS,
        realtime: options.realtime,
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
          this.route(filter.lost('the kernel dropped process events: the socket buffer was full'));
        },
        onError: (err) => this.died(s, err.message),
      }).then(
        (capture) => (s.capture = capture),
        (err: unknown) => {
          s.dead = true;
          if (err instanceof CaptureError)
            throw new UnsupportedError(
              `the proc connector is not available: ${err.message}`,
              captureFix(err.code),
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
