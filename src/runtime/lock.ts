import { mkdirSync, readFileSync, readdirSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError } from '../errors.js';
import type { ProcRef } from './types.js';

/** Who holds (or waits for) a container's lock. */
export interface LockHolder {
  readonly pid: number;
  readonly start: string;
  readonly op: string;
  readonly since: string;
}

export interface LockOptions {
  /** This process's identity. */
  readonly self: ProcRef;
  /** Whether a recorded holder still runs (pid and start time). */
  readonly alive: (ref: ProcRef) => boolean;
  /** How long to wait for a live holder. Default 30 s; 0 tries once. */
  readonly timeoutMs?: number;
}

/**
 * A per-container lock that a SIGKILLed holder cannot leave stuck. Each contender creates its
 * own entry, named after its pid, start time and a random tag, in the lock directory, then lists
 * the directory: it holds the lock if no other live entry is there, else it withdraws and retries.
 * Of two contenders, the later lister always sees the earlier one's entry, so two can never both
 * hold it; entries of dead processes are deleted by whoever finds them, and since every name is
 * unique, deleting one can never remove a live holder's entry (the flaw of lock files that are
 * broken by rename or unlink of a shared name).
 */
export class ContainerLock implements Disposable {
  private released = false;

  private constructor(
    private readonly dir: string,
    private readonly entry: string,
  ) {}

  static async acquire(dir: string, op: string, options: LockOptions): Promise<ContainerLock> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const tag = Math.random().toString(36).slice(2, 10);
    const entry = `${options.self.pid}-${options.self.start}-${tag}`;
    const body = JSON.stringify({ op, since: new Date().toISOString() });
    for (let attempt = 0; ; attempt++) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      try {
        writeFileSync(path.join(dir, entry), body, { flag: 'wx', mode: 0o600 });
      } catch (err) {
        // The directory was removed with its container between mkdir and write: try again.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const others = readHolders(dir, options.alive, entry);
      if (others.length === 0) return new ContainerLock(dir, entry);
      unlinkQuiet(path.join(dir, entry));
      if (Date.now() >= deadline) {
        const h = others[0] as LockHolder;
        throw new CorralError(
          'E_LOCKED',
          `container is busy: corral pid ${h.pid} has been doing "${h.op}" on it since ${h.since}; try again when it is done`,
          { holder: h, lock: dir },
        );
      }
      // Random backoff, so two contenders that keep seeing each other do not stay in step.
      await sleep(Math.min(5 + attempt * 5, 100) * (0.5 + Math.random()));
    }
  }

  /** Live holders of the lock at `dir` (empty when free); entries of dead processes are removed. */
  static holders(dir: string, alive: (ref: ProcRef) => boolean): LockHolder[] {
    return readHolders(dir, alive, undefined);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    unlinkQuiet(path.join(this.dir, this.entry));
  }

  /** Releases the lock and removes its directory if nobody else is in it (after a removal). */
  releaseAndClean(): void {
    this.release();
    try {
      rmdirSync(this.dir);
    } catch {
      // another contender is waiting in it, or it is gone already
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

const ENTRY = /^(\d+)-(\d+)-[a-z0-9]+$/;

function readHolders(
  dir: string,
  alive: (ref: ProcRef) => boolean,
  except: string | undefined,
): LockHolder[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: LockHolder[] = [];
  for (const name of names) {
    if (name === except) continue;
    const m = ENTRY.exec(name);
    if (!m) continue;
    const ref = { pid: Number(m[1]), start: m[2] as string };
    if (!alive(ref)) {
      // Its owner died holding or waiting (SIGKILL, OOM kill, power loss): the entry is stale.
      unlinkQuiet(path.join(dir, name));
      continue;
    }
    let info = { op: 'unknown', since: '' };
    try {
      info = { ...info, ...(JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as object) };
    } catch {
      // written a moment ago and still empty
    }
    out.push({ ...ref, op: info.op, since: info.since });
  }
  return out;
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
