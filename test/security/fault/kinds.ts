import type { RunResult, SandboxSpec } from '../../../src/index.js';

/** One kind of run in the fault battery: what to run and what its result must say. */
export interface FaultKind {
  readonly name: string;
  /** Out of every 100 runs. */
  readonly share: number;
  spec(tag: string, i: number): SandboxSpec;
  /** Why the result is wrong, or undefined when it is as expected. */
  check(r: RunResult, i: number): string | undefined;
}

const expect = (ok: boolean, why: () => string) => (ok ? undefined : why());
const brief = (r: RunResult) =>
  JSON.stringify({
    exitCode: r.exitCode,
    signal: r.signal,
    reason: r.reason,
    stdout: r.stdout,
    stderr: r.stderr?.slice(0, 200),
  });

/**
 * Runs made in this process with the library. Every command carries the battery's tag as $0, so
 * its processes can be found on the host afterwards.
 */
export const LIBRARY_KINDS: FaultKind[] = [
  {
    name: 'normal',
    share: 40,
    spec: (tag, i) => ({ command: ['sh', '-c', `echo out-${i}; echo err-${i} >&2`, tag] }),
    check: (r, i) =>
      expect(
        r.exitCode === 0 && r.reason === 'exit' && r.stdout === `out-${i}\n` && r.stderr === `err-${i}\n`,
        () => brief(r),
      ),
  },
  {
    name: 'timeout',
    share: 12,
    spec: (tag) => ({ command: ['sh', '-c', 'sleep 30 & wait', tag], limits: { timeout: '150ms' } }),
    check: (r) => expect(r.reason === 'timeout' && r.exitCode === 137, () => brief(r)),
  },
  {
    name: 'out-of-memory',
    share: 12,
    // The shell doubles a string until the cgroup's OOM killer stops it.
    spec: (tag) => ({
      command: ['sh', '-c', 'a=x; while :; do a=$a$a; done', tag],
      limits: { memory: '32Mi', timeout: '20s' },
    }),
    check: (r) => expect(r.reason === 'memory', () => brief(r)),
  },
  {
    name: 'fork-bomb',
    share: 8,
    spec: (tag) => ({
      command: ['sh', '-c', 'b() { b | b & }; b; wait', tag],
      limits: { pids: 16, timeout: '600ms' },
    }),
    check: (r) =>
      expect(r.reason === 'timeout' || r.reason === 'exit' || r.reason === 'signal', () => brief(r)),
  },
  {
    name: 'killed-by-a-signal',
    share: 8,
    spec: (tag) => ({ command: ['sh', '-c', 'sleep 0.05; kill -TERM $$; sleep 5', tag] }),
    check: (r) =>
      expect(r.reason === 'signal' && r.signal === 'SIGTERM' && r.exitCode === 143, () => brief(r)),
  },
];
