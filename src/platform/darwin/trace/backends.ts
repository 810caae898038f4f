import { OsLauncher } from '../../../process/os-launcher.js';
import type { ProcessLauncher } from '../../../process/types.js';
import type { ProbeResult, TracerBackend } from '../../../trace/backend.js';
import { runProbe } from '../../probe.js';
import { PsPollTracer } from './ps-poll-tracer.js';

async function probePs(launcher: ProcessLauncher): Promise<ProbeResult> {
  const r = await runProbe(launcher, '/bin/ps', ['-o', 'pid=', '-p', String(process.pid)], {}, 3000);
  return r.ok ? { ok: true } : { ok: false, reason: `/bin/ps failed: ${r.error}`, fix: 'a working /bin/ps' };
}

/** macOS tracers, best first. `launcher` runs the probe (tests pass a fake). */
export function darwinTracerBackends(launcher: ProcessLauncher = new OsLauncher()): TracerBackend[] {
  return [
    {
      name: 'ps-poll',
      mechanism: 'polling ps for the sandbox process tree',
      kind: 'userspace',
      limitation:
        'misses processes shorter than the interval; arguments split on spaces; no cwd or exit status (Endpoint Security needs an Apple entitlement)',
      probe: () => probePs(launcher),
      create: (o) => new PsPollTracer(o.intervalMs === undefined ? {} : { intervalMs: o.intervalMs }),
    },
  ];
}
