/**
 * The proc connector's reader, a small process of its own: it runs the capture (the perl
 * program that owns the netlink sockets and reads each exec's argv at once, see
 * capture-script.ts), keeps the events of the traced sandboxes and sends them to corral in
 * batches. Being a process of its own, it neither slows corral nor is slowed by it: every fork
 * corral does to start a sandbox write-locks corral's memory map, and a thread sharing it
 * stalls on its next page fault.
 */
import type { FromReader, ReaderOptions, ToReader } from './connector-protocol.js';
import { openConnectorCapture, type ConnectorCapture } from './connector-capture.js';
import { SandboxFilter, type Routed } from './sandbox-filter.js';

const send = process.send?.bind(process);
if (!send) throw new Error('connector-reader must be started with an IPC channel');
const options = JSON.parse(process.argv[2] ?? '{}') as ReaderOptions;
const post = (m: FromReader) => send(m);
process.title = 'corral-trace-reader';

const filter = new SandboxFilter();
let batch: Routed[] = [];
let flushQueued = false;

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

let capture: ConnectorCapture | undefined;

async function main(): Promise<void> {
  try {
    capture = await openConnectorCapture({
      receiveBuffer: options.receiveBuffer,
      subscribeTimeoutMs: options.subscribeTimeoutMs,
      flushMs: FLUSH_MS,
      realtime: options.realtime,
      onEvents: (events) => {
        if (filter.size === 0) return;
        const out: Routed[] = [];
        for (const ev of events) {
          const r = filter.handle(ev);
          if (r) out.push(r);
        }
        // The capture already batches (at most FLUSH_MS late): pass its batch on as it is.
        queue(out);
        flush();
      },
      onOverflow: () => queue(filter.lost('the kernel dropped process events: the socket buffer was full')),
      onError: (err) => {
        queue(filter.lost(`proc connector error: ${err.message}`));
        flush();
      },
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    post({ op: 'failed', message: e.message, code: e.code });
    process.disconnect();
    return;
  }
  post({ op: 'ready', realtime: capture.realtime, capturePid: capture.pid, mode: capture.mode });
}

async function close(): Promise<void> {
  await capture?.close();
  capture = undefined;
}

process.on('message', (m: ToReader) => void handle(m));
// corral went away (even killed): unsubscribe and end, so no reader outlives it.
process.on('disconnect', () => void close().then(() => process.exit(0)));

async function handle(m: ToReader): Promise<void> {
  if (m.op === 'add') {
    const { id, label, initPid, cgroupName, joiners } = m;
    queue(filter.add({ id, label, initPid, cgroupName, joiners }, m.existing));
    capture?.readPlaces(filter.wantsPlaces);
    post({ op: 'added', id: m.id });
  } else if (m.op === 'remove') {
    await capture?.drain();
    flush();
    filter.remove(m.id);
    capture?.readPlaces(filter.wantsPlaces);
    post({ op: 'removed', id: m.id });
  } else {
    await close();
    flush();
    post({ op: 'closed' });
    process.disconnect();
  }
}

void main();
