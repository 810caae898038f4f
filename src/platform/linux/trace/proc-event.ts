/**
 * The proc connector's wire format (linux/connector.h, linux/cn_proc.h), little-endian as on
 * every architecture corral supports:
 *
 *   nlmsghdr  len u32 | type u16 | flags u16 | seq u32 | pid u32                    16 bytes
 *   cn_msg    idx u32 | val u32 | seq u32 | ack u32 | len u16 | flags u16          20 bytes
 *   proc_event what u32 | cpu u32 | timestamp_ns u64 | event_data (union)       16 + n bytes
 *     fork: parent_pid, parent_tgid, child_pid, child_tgid                          (16)
 *     exec: process_pid, process_tgid                                               (8)
 *     exit: process_pid, process_tgid, exit_code, exit_signal[, parent_pid, parent_tgid] (16/24)
 *     none (ack): err                                                               (4)
 */
export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;

const NLMSG_HDRLEN = 16;
const CN_MSG_LEN = 20;
const PROC_EVENT_HDR = 16;
const NLMSG_NOOP = 1;
const NLMSG_ERROR = 2;
const NLMSG_OVERRUN = 4;

export const PROC_EVENT = {
  NONE: 0,
  FORK: 0x1,
  EXEC: 0x2,
  EXIT: 0x80000000,
} as const;

export type ProcEvent =
  /** The kernel's answer to a subscription: `ack` is the request's ack field plus one. */
  | { kind: 'ack'; ack: number; err: number }
  | {
      kind: 'fork';
      timestampNs: bigint;
      parentPid: number;
      parentTgid: number;
      childPid: number;
      childTgid: number;
    }
  | { kind: 'exec'; timestampNs: bigint; pid: number; tgid: number }
  | {
      kind: 'exit';
      timestampNs: bigint;
      pid: number;
      tgid: number;
      /** A wait status: `code << 8 | signal`. */
      exitCode: number;
      /** Kernels before 4.18 do not send it. */
      parentTgid: number | null;
    };

/**
 * Parses one datagram from a NETLINK_CONNECTOR socket. Every length is checked against the
 * buffer: a short or malformed message is skipped, never read past. Events of other kinds
 * (uid, gid, sid, comm, ptrace, coredump changes) are ignored.
 */
export function parseProcEvents(buf: Uint8Array): ProcEvent[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: ProcEvent[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.byteLength) {
    const nlLen = view.getUint32(off, true);
    const nlType = view.getUint16(off + 4, true);
    if (nlLen < NLMSG_HDRLEN || off + nlLen > buf.byteLength) break;
    if (nlType !== NLMSG_NOOP && nlType !== NLMSG_ERROR && nlType !== NLMSG_OVERRUN) {
      const ev = parseCnMsg(view, off + NLMSG_HDRLEN, nlLen - NLMSG_HDRLEN);
      if (ev) out.push(ev);
    }
    off += (nlLen + 3) & ~3; // NLMSG_ALIGN
  }
  return out;
}

function parseCnMsg(view: DataView, at: number, room: number): ProcEvent | undefined {
  if (room < CN_MSG_LEN) return undefined;
  if (view.getUint32(at, true) !== CN_IDX_PROC || view.getUint32(at + 4, true) !== CN_VAL_PROC)
    return undefined;
  const ack = view.getUint32(at + 12, true);
  const len = view.getUint16(at + 16, true);
  if (len > room - CN_MSG_LEN || len < PROC_EVENT_HDR + 4) return undefined;
  const p = at + CN_MSG_LEN;
  const what = view.getUint32(p, true);
  const timestampNs = view.getBigUint64(p + 8, true);
  const d = p + PROC_EVENT_HDR;
  const u32 = (i: number) => view.getUint32(d + 4 * i, true);
  const dataLen = len - PROC_EVENT_HDR;
  switch (what) {
    case PROC_EVENT.NONE:
      return { kind: 'ack', ack, err: u32(0) };
    case PROC_EVENT.FORK:
      if (dataLen < 16) return undefined;
      return {
        kind: 'fork',
        timestampNs,
        parentPid: u32(0),
        parentTgid: u32(1),
        childPid: u32(2),
        childTgid: u32(3),
      };
    case PROC_EVENT.EXEC:
      if (dataLen < 8) return undefined;
      return { kind: 'exec', timestampNs, pid: u32(0), tgid: u32(1) };
    case PROC_EVENT.EXIT:
      if (dataLen < 16) return undefined;
      return {
        kind: 'exit',
        timestampNs,
        pid: u32(0),
        tgid: u32(1),
        exitCode: u32(2),
        parentTgid: dataLen >= 24 ? u32(5) : null,
      };
    default:
      return undefined;
  }
}

/**
 * The message that subscribes (LISTEN) or unsubscribes (IGNORE) a socket to process events.
 * The kernel answers with `ack + 1` in its acknowledgement (its seq is its own), which is how a
 * reply is matched to this request: the reply is multicast to every listener.
 */
export function mcastControlMessage(op: number, ack: number, portId: number): Buffer {
  const total = NLMSG_HDRLEN + CN_MSG_LEN + 4;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(total, 0);
  b.writeUInt16LE(3, 4); // NLMSG_DONE: a single-part message
  b.writeUInt16LE(0, 6);
  b.writeUInt32LE(ack, 8);
  b.writeUInt32LE(portId, 12);
  b.writeUInt32LE(CN_IDX_PROC, 16);
  b.writeUInt32LE(CN_VAL_PROC, 20);
  b.writeUInt32LE(0, 24);
  b.writeUInt32LE(ack, 28);
  b.writeUInt16LE(4, 32);
  b.writeUInt16LE(0, 34);
  b.writeUInt32LE(op, 36);
  return b;
}
