/**
 * A recorder process: traces one sandbox into a JSONL file until the sandbox's init exits, on
 * its own, so the trace of a lifecycle container goes on after the corral that started it has
 * exited. Started by startRecorderProcess; argv[2] is its options as JSON.
 */
import { cgroupProcsReader } from '../platform/trace-backends.js';
import { createTracer } from './factory.js';
import { TraceRecorder } from './recorder.js';
import type { RecorderMessage, RecorderProcessOptions } from './recorder-process.js';

const options = JSON.parse(process.argv[2] ?? '{}') as RecorderProcessOptions;
const tell = (m: RecorderMessage) => process.send?.(m);
// Its label on the title, so `ps` (and a test's census) can tell whose recorder it is.
process.title = `corral-trace-recorder ${options.target.sandbox ?? options.target.initPid}`;

let handedOver = false;
// The caller died before it heard that the recorder runs, so it could not record it anywhere:
// nobody would know to stop it.
process.once('disconnect', () => {
  if (!handedOver) process.exit(1);
});

async function main(): Promise<void> {
  const { target } = options;
  const tracer = await createTracer({
    ...(options.backend !== undefined && { backend: options.backend }),
    ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
  });
  const recorder = new TraceRecorder({ tracer, file: options.file, append: options.append ?? false });
  let stopping = false;
  const timers: { watch?: NodeJS.Timeout } = {};
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timers.watch);
    await recorder.stop();
    process.exit(0);
  };
  // The init's exit comes after every other process of its pid namespace has exited.
  tracer.onEvent((e) => {
    if (e.type === 'exit' && e.pid === target.initPid) void stop();
  });
  // Polling finds processes that joined the sandbox from outside its tree through the cgroup.
  const cgroupProcs = target.cgroupName === undefined ? undefined : cgroupProcsReader(target.cgroupName);
  await recorder.start({ ...target, ...(cgroupProcs && { cgroupProcs }) });
  // In case that exit event was missed (a polling backend, lost events).
  timers.watch = setInterval(() => {
    try {
      process.kill(target.initPid, 0);
    } catch {
      void stop();
    }
  }, 1000);
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  handedOver = true;
  tell({ op: 'ready', backend: tracer.backend });
  process.disconnect?.();
  // Starting left garbage (the kernel's BTF, megabytes, for the eBPF tracer) that an idle
  // recorder would hold until its next collection, which may never come: one now, as it settles.
  (globalThis as { gc?: () => void }).gc?.();
}

main().catch((err: unknown) => {
  tell({ op: 'failed', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
