import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/**
 * What the battery plants on the host for attempts to go after, and how it checks afterwards:
 * secrets in /root, in another user's home and in this process's environment; a TCP server on
 * the host loopback and one on an abstract unix socket, counting who reaches them; a host
 * process to signal and trace; the values of host-wide settings an attempt might change.
 */
export class HostFixture {
  readonly token = `corral-secret-${randomBytes(12).toString('hex')}`;
  // Paths carry their own id, never the token: error messages quoting a path must not look like a leak.
  private readonly id = randomBytes(6).toString('hex');
  readonly rootSecret = `/root/.corral-battery-${this.id}`;
  readonly homeDir = `/home/corral-battery-${this.id}`;
  readonly hostname = hostname();
  readonly testPid = process.pid;
  readonly sleeperTag = `corral-battery-sleeper-${this.id}`;
  readonly abstractName = `corral-battery-${this.id}`;
  tcpPort = 0;
  tcpHits = 0;
  abstractHits = 0;
  shadowFirstLine = '';
  private sleeper: ChildProcess | undefined;
  private servers: Server[] = [];
  private readonly restore = new Map<string, string>();
  private count = 0;

  async setup(): Promise<void> {
    writeFileSync(this.rootSecret, `${this.token}\n`, { mode: 0o600 });
    mkdirSync(this.homeDir, { mode: 0o700 });
    writeFileSync(`${this.homeDir}/secret`, `${this.token}\n`, { mode: 0o600 });
    process.env.CORRAL_BATTERY_SECRET = this.token;
    this.shadowFirstLine = readFileSync('/etc/shadow', 'utf8').split('\n')[0] ?? '';
    for (const file of [
      '/proc/sys/kernel/core_pattern',
      '/proc/sys/vm/swappiness',
      '/sys/kernel/mm/transparent_hugepage/enabled',
    ])
      this.remember(file);
    const tcp = createServer((s) => {
      this.tcpHits++;
      s.end('host secret over tcp\n');
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    this.tcpPort = (tcp.address() as { port: number }).port;
    const abstract = createServer((s) => {
      this.abstractHits++;
      s.end('host secret over an abstract socket\n');
    });
    abstract.listen(`\0${this.abstractName}`);
    await once(abstract, 'listening');
    this.servers.push(tcp, abstract);
    this.sleeper = spawn('python3', ['-c', 'import time; time.sleep(600)', this.sleeperTag], {
      stdio: 'ignore',
    });
    await once(this.sleeper, 'spawn');
  }

  get sleeperPid(): number {
    return this.sleeper?.pid ?? -1;
  }

  sleeperAlive(): boolean {
    try {
      process.kill(this.sleeperPid, 0);
      return this.sleeper?.exitCode === null && this.sleeper.signalCode === null;
    } catch {
      return false;
    }
  }

  /** A fresh string to find an attempt's processes or files by. */
  marker(what: string): string {
    return `corral-battery-${what}-${this.id}-${++this.count}`;
  }

  /** The current value of a host setting, as recorded before the battery (to compare against). */
  setting(file: string): string | undefined {
    return this.restore.get(file);
  }

  read(file: string): string | undefined {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }

  async teardown(): Promise<void> {
    for (const [file, value] of this.restore) {
      // Only if an attempt changed it: the battery then fails, but the host is put back.
      if (this.read(file) !== value) {
        try {
          writeFileSync(file, file.endsWith('enabled') ? (/\[(\w+)\]/.exec(value)?.[1] ?? '') : value);
        } catch {
          // reported by the attempt that changed it
        }
      }
    }
    this.sleeper?.kill('SIGKILL');
    for (const s of this.servers) s.close();
    rmSync(this.rootSecret, { force: true });
    rmSync(this.homeDir, { recursive: true, force: true });
    delete process.env.CORRAL_BATTERY_SECRET;
  }

  private remember(file: string): void {
    const value = this.read(file);
    if (value !== undefined) this.restore.set(file, value);
  }
}
