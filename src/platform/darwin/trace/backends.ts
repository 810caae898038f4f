import { execFile } from 'node:child_process';
import type { ProbeResult, TracerBackend } from '../../../trace/backend.js';
import { PsPollTracer } from './ps-poll-tracer.js';

function probePs(): Promise<ProbeResult> {
  return new Promise((resolve) =>
    execFile('/bin/ps', ['-o', 'pid=', '-p', String(process.pid)], { timeout: 3000 }, (err) =>
      resolve(
        err
          ? { ok: false, reason: `/bin/ps failed: ${err.message}`, fix: 'a working /bin/ps' }
          : { ok: true },
      ),
    ),
  );
}

/** macOS tracers, best first. */
export function darwinTracerBackends(): TracerBackend[] {
  return [
    {
      name: 'ps-poll',
      mechanism: 'polling ps for the sandbox process tree',
      kind: 'userspace',
      limitation:
        'misses processes shorter than the interval; arguments split on spaces; no cwd or exit status (Endpoint Security needs an Apple entitlement)',
      probe: probePs,
      create: (o) => new PsPollTracer(o.intervalMs === undefined ? {} : { intervalMs: o.intervalMs }),
    },
  ];
}
