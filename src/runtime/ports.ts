import { closeSync, openSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LaunchError } from '../errors.js';
import type { ContainerDriver } from './driver.js';
import type { ProcRef } from './types.js';

/** A TCP port reserved for a container, and the process keeping it reserved until start. */
export interface PortReservation {
  readonly port: number;
  readonly holder: ProcRef | undefined;
}

/**
 * Reserves a free TCP port (on every address, IPv4 and IPv6) and hands the listening socket to a
 * tiny detached process that only sleeps, so the port stays taken after this corral process has
 * exited, until `start` frees it for the container a moment before the command runs. The seed
 * runtime held it in its own memory, which a daemonless CLI cannot do.
 */
export async function reservePort(
  driver: ContainerDriver,
  preferred: number | undefined,
  /** A directory the holder keeps open, so a cleanup can find it even if it was never recorded. */
  anchor: string,
): Promise<PortReservation> {
  let server: Server;
  try {
    server = await listen(preferred ?? 0);
  } catch (err) {
    if (preferred === undefined)
      throw new LaunchError(`cannot reserve a TCP port: ${(err as Error).message}`);
    server = await listen(0);
  }
  let anchorFd: number | undefined;
  try {
    const address = server.address();
    if (!address || typeof address === 'string')
      throw new LaunchError('cannot reserve a TCP port: no address');
    const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return { port: address.port, holder: undefined };
    anchorFd = openSync(anchor, 'r');
    const p = driver.launcher.launch({
      file: 'sleep',
      args: ['2147483647'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
      cwd: '/',
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
      extraFds: [fd, anchorFd],
      detached: true,
    });
    p.unref();
    p.exit.catch(() => undefined);
    return { port: address.port, holder: driver.identify(p.pid) };
  } finally {
    server.close();
    if (anchorFd !== undefined) closeSync(anchorFd);
  }
}

/** Ends the holder and waits until the port is free again. Safe when it is gone already. */
export async function releasePort(driver: ContainerDriver, holder: ProcRef | undefined): Promise<void> {
  if (!holder || !driver.alive(holder)) return;
  driver.launcher.signal(holder.pid, 'SIGKILL');
  for (let i = 0; i < 400 && driver.alive(holder); i++) await sleep(1);
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    // No host: Node listens on :: with IPv4 mapped, so the port is taken on every address.
    server.listen({ port, exclusive: true }, () => resolve(server));
  });
}
