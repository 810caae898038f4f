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
 * rmdir with retries: after the last process exits the kernel may still be tearing the cgroup
 * down (EBUSY) for a few milliseconds. ENOENT counts as success, so removal is idempotent.
 */
export async function removeDir(dir: string, kill: () => void, attempts = 50): Promise<void> {
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
      await sleep(Math.min(2 + i * 2, 20));
    }
  }
}
