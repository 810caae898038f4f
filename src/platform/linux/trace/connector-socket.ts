import { createRequire } from 'node:module';
import type * as Netlink from 'netlink';
import type { RawNetlinkSocket } from 'netlink';
import {
  CN_IDX_PROC,
  NETLINK_CONNECTOR,
  PROC_CN_MCAST_IGNORE,
  PROC_CN_MCAST_LISTEN,
  mcastControlMessage,
  parseProcEvents,
  type ProcEvent,
} from './proc-event.js';

export interface ConnectorSocketOptions {
  /** SO_RCVBUF in bytes: room for bursts while the reader is busy. */
  readonly receiveBuffer: number;
  readonly subscribeTimeoutMs: number;
  /** Called with the events of each datagram, synchronously as it is read. */
  readonly onEvents: (events: ProcEvent[]) => void;
  /** Called when the kernel dropped events because the socket's buffer was full. */
  readonly onOverflow: () => void;
  readonly onError: (err: Error) => void;
}

export interface ConnectorSocket {
  /** Unsubscribes (so the kernel stops generating events once nobody listens), then closes. */
  close(): Promise<void>;
}

/** The native netlink module is loaded only when a proc connector is really opened. */
function loadNetlink(): typeof Netlink {
  return createRequire(import.meta.url)('netlink') as typeof Netlink;
}

/**
 * Opens a NETLINK_CONNECTOR socket, joins the process-events group and subscribes. Resolves once
 * the kernel has acknowledged the subscription: from then on every fork, exec and exit on the
 * host is delivered. Rejects with the kernel's error (EPERM without CAP_NET_ADMIN) or on timeout
 * (the kernel ignores requests from outside the initial user and pid namespaces).
 */
export async function openConnectorSocket(options: ConnectorSocketOptions): Promise<ConnectorSocket> {
  const { RawNetlinkSocket } = loadNetlink();
  const sock: RawNetlinkSocket = new RawNetlinkSocket(NETLINK_CONNECTOR, {
    recvBufferSize: options.receiveBuffer,
    sendBufferSize: 0,
    // One recvmsg per event instead of a peek and a read: proc events are 52-76 bytes.
    messagePeeking: false,
    msgBufferSize: 512,
  });
  let closed = false;
  const closeNow = () => {
    if (!closed) sock.close();
    closed = true;
  };
  const tag = (Math.random() * 0x7fffffff) | 0;
  let acked: ((err: number) => void) | undefined;
  sock.on('message', (buf) => {
    const events = parseProcEvents(buf);
    const ack = events.find((e) => e.kind === 'ack' && e.ack === tag + 1);
    if (ack && ack.kind === 'ack') acked?.(ack.err);
    options.onEvents(events);
  });
  sock.on('error', (err) => (err.code === 'ENOBUFS' ? options.onOverflow() : options.onError(err)));
  try {
    sock.addMembership(CN_IDX_PROC);
    const port = sock.address().port;
    const err = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `the kernel did not answer the proc connector subscription within ${options.subscribeTimeoutMs} ms (not in the initial user/pid namespace?)`,
            ),
          ),
        options.subscribeTimeoutMs,
      );
      acked = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
      sock.send(mcastControlMessage(PROC_CN_MCAST_LISTEN, tag, port), {}, (e) => {
        if (e) {
          clearTimeout(timer);
          reject(e);
        }
      });
    });
    acked = undefined;
    if (err !== 0)
      throw Object.assign(new Error(`the kernel refused the proc connector subscription: errno ${err}`), {
        errno: err,
      });
    return {
      close: () =>
        new Promise<void>((resolve) => {
          if (closed) return resolve();
          const done = () => {
            clearTimeout(timer);
            closeNow();
            resolve();
          };
          const timer = setTimeout(done, 200);
          sock.send(mcastControlMessage(PROC_CN_MCAST_IGNORE, tag + 2, port), {}, done);
        }),
    };
  } catch (err) {
    closeNow();
    throw err;
  }
}
