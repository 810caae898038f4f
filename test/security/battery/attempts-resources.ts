import { execFileSync } from 'node:child_process';
import type { Attempt } from './types.js';
import { py, sh, verdict } from './types.js';

/** The host can still start a process: what a fork bomb or a memory hog would take away. */
function hostStillWorks(): boolean {
  try {
    return execFileSync('/bin/echo', ['ok'], { encoding: 'utf8', timeout: 5000 }).trim() === 'ok';
  } catch {
    return false;
  }
}

/**
 * Exhausting the host. corral sets no limits unless asked, so these run with the limit that
 * guards the resource: the attempt is to get past it, and the host must not notice.
 */
export const RESOURCE_ATTEMPTS: Attempt[] = [
  {
    id: 'exhaust-pids',
    category: 'exhausting the host',
    title: 'fork bomb under --pids 32',
    spec: () => ({
      limits: { pids: 32, timeout: '3s' },
      command: sh('bomb() { bomb | bomb & }; bomb; sleep 5'),
    }),
    judge: (r) =>
      verdict(
        r,
        r.reason === 'timeout' && hostStillWorks(),
        `reason ${r.reason}; the host still starts processes`,
      ),
  },
  {
    id: 'exhaust-memory',
    category: 'exhausting the host',
    title: 'allocate 1 GiB under --memory 64Mi',
    spec: () => ({
      limits: { memory: '64Mi', timeout: '30s' },
      command: py('b = bytearray(1 << 30)\nprint("ALLOCATED")'),
    }),
    judge: (r) =>
      verdict(
        r,
        r.reason === 'memory' && !/ALLOCATED/.test(r.stdout ?? ''),
        `reason ${r.reason}, peak ${r.peakMemoryBytes}`,
      ),
  },
  {
    id: 'exhaust-disk-tmpfs',
    category: 'exhausting the host',
    title: 'fill the RAM-backed /tmp (tmpfs) with 1 GiB under --memory 64Mi',
    spec: () => ({
      limits: { memory: '64Mi', timeout: '30s' },
      command: sh('dd if=/dev/zero of=/tmp/fill bs=1M count=1024 2>&1; ls -l /tmp/fill'),
    }),
    judge: (r) => {
      const size = Number(/ (\d+) [A-Z][a-z]{2} /.exec(r.stdout ?? '')?.[1] ?? 0);
      return verdict(
        r,
        r.reason === 'memory' || size <= 64 * 2 ** 20,
        `reason ${r.reason}, /tmp/fill ${size} bytes`,
      );
    },
  },
  {
    id: 'exhaust-disk-fsize',
    category: 'exhausting the host',
    title: 'write a 100 MiB file under --fsize 1Mi',
    spec: () => ({
      limits: { fsize: '1Mi' },
      command: sh('head -c 104857600 /dev/zero > /tmp/big; ls -l /tmp/big'),
    }),
    judge: (r) =>
      verdict(r, r.reason === 'file-size' || /\s1048576\s/.test(r.stdout ?? ''), `reason ${r.reason}`),
  },
  {
    id: 'exhaust-fds',
    category: 'exhausting the host',
    title: 'open descriptors until something gives, under --nofile 64',
    spec: () => ({
      limits: { nofile: 64 },
      command: py(
        'import os\nfds = []\ntry:\n    while True: fds.append(os.open("/dev/null", os.O_RDONLY))\nexcept OSError as e: print("stopped at", len(fds) + 3, e.strerror)',
      ),
    }),
    judge: (r) => {
      const n = Number(/stopped at (\d+)/.exec(r.stdout ?? '')?.[1] ?? Infinity);
      return verdict(r, n <= 64, `${n} descriptors open at most`);
    },
  },
  {
    id: 'raise-rlimits',
    category: 'exhausting the host',
    title: 'raise its own hard rlimits (nofile, fsize) back to unlimited',
    spec: () => ({
      limits: { nofile: 64, fsize: '1Mi' },
      command: py(
        'import resource\nfor name in ("RLIMIT_NOFILE", "RLIMIT_FSIZE"):\n    r = getattr(resource, name)\n    try:\n' +
          '        resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)); print(name, "RAISED")\n' +
          '    except (ValueError, OSError) as e: print(name, "refused:", e)\n    print(name, resource.getrlimit(r))',
      ),
    }),
    judge: (r) =>
      verdict(r, !/RAISED/.test(r.stdout ?? '') && /RLIMIT_NOFILE \(64, 64\)/.test(r.stdout ?? '')),
  },
  {
    id: 'exhaust-cpu',
    category: 'exhausting the host',
    title: 'spin forever under --cpu-time 1s',
    spec: () => ({ limits: { cpuTime: '1s', timeout: '20s' }, command: sh('while :; do :; done') }),
    judge: (r) => verdict(r, r.reason === 'cpu-time', `reason ${r.reason} after ${r.wallMs} ms`),
  },
];
