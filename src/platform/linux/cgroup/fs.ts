import { readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Small synchronous helpers: cgroupfs files are tiny and answered from kernel memory. */

export function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function readNumber(file: string): number | null {
  const t = readText(file);
  if (t === null) return null;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : null;
}

/** Parses `key value` lines (memory.events, cpu.stat, memory.oom_control). */
export function readKeyed(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readText(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
  }
  return out;
}

export function write(file: string, value: string): void {
  writeFileSync(file, value);
}

export function readPids(file: string): number[] {
  const t = readText(file);
  if (!t) return [];
  return t
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * rmdir with retries: after the sandbox exits, its init may linger as a zombie for a moment
 * (bwrap exits before the system reaps it) and the cgroup stays busy (EBUSY). The first retries
 * only yield to the event loop, since the reaping happens on another CPU within microseconds.
 * ENOENT counts as success, so removal is idempotent.
 */
export async function removeDir(dir: string, kill: () => void, attempts = 60): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // Only a plain directory standing in for cgroupfs (the fake tree in tests) says ENOTEMPTY:
      // the kernel answers EBUSY for a cgroup that still has children or processes.
      if (code === 'ENOTEMPTY') {
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      if (code !== 'EBUSY' || i >= attempts) throw err;
      kill();
      if (i < 20) await new Promise((resolve) => setImmediate(resolve));
      else await sleep(Math.min(1 + (i - 20) * 2, 20));
    }
  }
}
