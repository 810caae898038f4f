/**
 * The proc connector's reader, a small process of its own. It owns the netlink socket and reads
 * each exec's argv from /proc the moment the event arrives: a short-lived process may be gone a
 * millisecond later. It is a process rather than a thread because every fork() corral does to
 * start a sandbox write-locks corral's own memory map, and a thread sharing it then stalls on
 * its next page fault (measured: with the same process spawning continuously, a reader thread
 * lost argv for 25-40% of a burst; a reader process lost none). Events go back in batches.
 */
import { spawnSync } from 'node:child_process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FromReader, ReaderOptions, ToReader } from './connector-protocol.js';
import { openConnectorSocket, type ConnectorSocket } from './connector-socket.js';
import { SandboxFilter, type Routed } from './sandbox-filter.js';

const send = process.send?.bind(process);
if (!send) throw new Error('connector-reader must be started with an IPC channel');
const options = JSON.parse(process.argv[2] ?? '{}') as ReaderOptions;
const post = (m: FromReader) => send(m);
process.title = 'corral-trace-reader';

const filter = new SandboxFilter();
let batch: Routed[] = [];
let flushQueued = false;
// Datagrams read since the last check phase: the native reader takes at most 32 per turn, so a
// turn with fewer means the socket was empty at that point.
let readThisTurn = 0;

// Handing events over wakes corral: once per event would double the cost of tracing a burst
// of short processes. They go in batches, at most FLUSH_MS late (a person watching live does
// not notice) and at once when a batch is big.
const FLUSH_MS = 20;
const FLUSH_SIZE = 512;
let flushTimer: NodeJS.Timeout | undefined;

function flush(): void {
  clearTimeout(flushTimer);
  flushQueued = false;
  if (batch.length === 0) return;
  post({ op: 'events', batch });
  batch = [];
}

function queue(items: Routed[]): void {
  for (const r of items) batch.push(r);
  if (batch.length >= FLUSH_SIZE) flush();
  else if (!flushQueued && batch.length > 0) {
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
 * instead of waiting for a busy CPU's time slice (measured here: otherwise 3-20% of argv is lost
 * in a burst of short execs). The kernel's real-time throttling still bounds it. Only this
 * thread is raised, after chrt has run: nothing it starts later inherits it (it starts nothing).
 */
function raisePriority(): string | null {
  const r = spawnSync('chrt', ['-f', '-p', '1', String(process.pid)], { stdio: 'ignore', timeout: 2000 });
  return r.status === 0 ? `SCHED_FIFO 1 (pid ${process.pid})` : null;
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
    process.disconnect();
    return;
  }
  post({ op: 'ready', realtime });
}

async function close(): Promise<void> {
  await socket?.close();
  socket = undefined;
}

process.on('message', (m: ToReader) => void handle(m));
// corral went away (even killed): unsubscribe and end, so no reader outlives it.
process.on('disconnect', () => void close().then(() => process.exit(0)));

async function handle(m: ToReader): Promise<void> {
  if (m.op === 'add') {
    const { id, label, initPid, cgroupName, joiners } = m;
    queue(filter.add({ id, label, initPid, cgroupName, joiners }, m.existing));
    post({ op: 'added', id: m.id });
  } else if (m.op === 'remove') {
    await drain();
    flush();
    filter.remove(m.id);
    post({ op: 'removed', id: m.id });
  } else {
    await close();
    flush();
    post({ op: 'closed' });
    process.disconnect();
  }
}

void main();
