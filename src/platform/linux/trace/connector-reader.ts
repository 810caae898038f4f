/**
 * The proc connector's reader thread. It owns the netlink socket and reads each exec's argv
 * from /proc the moment the event arrives: a short-lived process may be gone a millisecond
 * later, and a thread of its own is never held up by whatever the main thread is doing. Events
 * are handed to the main thread in batches.
 */
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromReader, ReaderOptions, ToReader } from './connector-protocol.js';
import { openConnectorSocket, type ConnectorSocket } from './connector-socket.js';
import { SandboxFilter, type Routed } from './sandbox-filter.js';

const port = parentPort;
if (!port) throw new Error('connector-reader must run in a worker thread');
const options = workerData as ReaderOptions;
const post = (m: FromReader) => port.postMessage(m);

const filter = new SandboxFilter();
let batch: Routed[] = [];
let flushQueued = false;
// Messages read since the last check phase: the native reader takes at most 32 per turn, so a
// turn with fewer means the socket was empty at that point.
let readThisTurn = 0;

function flush(): void {
  clearTimeout(flushTimer);
  flushQueued = false;
  if (batch.length === 0) return;
  post({ op: 'events', batch });
  batch = [];
}

// Handing events over wakes the main thread: once per event would double the cost of tracing
// a burst of short processes. They go in batches, at most FLUSH_MS late (a person watching
// live does not notice) and at once when a batch is big.
const FLUSH_MS = 20;
const FLUSH_SIZE = 512;
let flushTimer: NodeJS.Timeout | undefined;

function queue(items: Routed[]): void {
  for (const r of items) batch.push(r);
  if (batch.length >= FLUSH_SIZE) {
    clearTimeout(flushTimer);
    flushQueued = false;
    flush();
  } else if (!flushQueued && batch.length > 0) {
    flushQueued = true;
    flushTimer = setTimeout(flush, FLUSH_MS);
  }
}

/** Waits until everything the kernel had queued when this was called has been read. */
async function drain(): Promise<void> {
  do {
    readThisTurn = 0;
    await nextTurn();
  } while (readThisTurn >= 32);
}

/**
 * SCHED_FIFO at the lowest real-time priority: the reader then runs as soon as an event arrives
 * instead of waiting for a busy CPU's time slice (measured here: otherwise up to ~20% of argv is
 * lost in a burst of short execs). The kernel's real-time throttling still bounds it.
 */
function raisePriority(): string | null {
  try {
    const tid = readlinkSync('/proc/thread-self').split('/')[2] ?? '';
    const r = spawnSync('chrt', ['-f', '-p', '1', tid], { stdio: 'ignore', timeout: 2000 });
    return r.status === 0 ? `SCHED_FIFO 1 (thread ${tid})` : null;
  } catch {
    return null;
  }
}

let socket: ConnectorSocket | undefined;

async function main(): Promise<void> {
  const realtime = options.realtime ? raisePriority() : null;
  try {
    socket = await openConnectorSocket({
      receiveBuffer: options.receiveBuffer,
      subscribeTimeoutMs: options.subscribeTimeoutMs,
      onEvents: (events) => {
        readThisTurn++;
        if (filter.size === 0) return;
        const out: Routed[] = [];
        for (const ev of events) {
          const r = filter.handle(ev);
          if (r) out.push(r);
        }
        queue(out);
      },
      onOverflow: () => queue(filter.lost('the kernel dropped process events: the socket buffer was full')),
      onError: (err) => queue(filter.lost(`proc connector error: ${err.message}`)),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    post({ op: 'failed', message: e.message, code: e.code });
    return;
  }
  post({ op: 'ready', realtime });
}

port.on('message', (m: ToReader) => {
  void handle(m);
});

async function handle(m: ToReader): Promise<void> {
  if (m.op === 'add') {
    queue(filter.add({ id: m.id, label: m.label, initPid: m.initPid, cgroupName: m.cgroupName }, m.existing));
    post({ op: 'added', id: m.id });
  } else if (m.op === 'remove') {
    await drain();
    flush();
    filter.remove(m.id);
    post({ op: 'removed', id: m.id });
  } else {
    await socket?.close();
    socket = undefined;
    // Out of the native module's callback before saying so: the thread then ends by itself, and
    // is never terminated while inside native code (which aborts the whole process).
    await nextTurn();
    flush();
    post({ op: 'closed' });
    port?.close();
  }
}

void main();
