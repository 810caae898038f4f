import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { SandboxSpec } from '../../spec/schema.js';
import type { CliIO } from '../output.js';
import { addMacosOptions, macosFromOptions } from './macos-options.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** The sandbox flags shared by `run` and `create`. Names are the contract in DESIGN.md §2. */
export function addSandboxOptions(cmd: Command): Command {
  const common = cmd
    .option('--memory <size>', 'memory limit for the whole sandbox, e.g. 256Mi')
    .option('--cpus <n>', 'CPU bandwidth in CPUs, e.g. 0.5')
    .option('--cpu-time <duration>', 'CPU time per process, e.g. 10s')
    .option('--pids <n>', 'maximum processes and threads')
    .option('--nofile <n>', 'maximum open files per process')
    .option('--fsize <size>', 'largest file a process may write, e.g. 64Mi')
    .option('--timeout <duration>', 'wall-clock limit, e.g. 30s')
    .option('--net <mode>', 'network: none (default) or host')
    .option('--rw <path>', 'bind a host path read-write (PATH or SRC:DEST; repeatable)', collect, [])
    .option('--ro <path>', 'bind a host path read-only (PATH or SRC:DEST; repeatable)', collect, [])
    .option('--tmpfs <path>', 'mount an empty tmpfs at a sandbox path (repeatable)', collect, [])
    .option('--rootfs <dir>', 'use a directory tree as the root instead of the read-only host root')
    .option('--workdir <path>', 'working directory inside the sandbox (default /)')
    .option('--hostname <name>', 'hostname inside the sandbox (default corral)')
    .option(
      '-e, --env <K=V>',
      "set an environment variable; K alone copies it from corral's environment (repeatable)",
      collect,
      [],
    )
    .option('--env-file <file>', 'read K=V lines from a file (repeatable)', collect, [])
    .option(
      '--user <uid[:gid]>',
      'host uid[:gid] for the sandbox when corral runs as root (default 2000000000)',
    )
    .option('--best-effort', 'run even if some limit cannot be enforced here; the result lists what was not')
    .option(
      '--seccomp <policy>',
      "system call filter: default (corral's deny list), none, or a JSON policy file {default, extends, deny, allow}",
    );
  return addMacosOptions(common);
}

interface RawSandboxOptions {
  memory?: string;
  cpus?: string;
  cpuTime?: string;
  pids?: string;
  nofile?: string;
  fsize?: string;
  timeout?: string;
  net?: string;
  rw: string[];
  ro: string[];
  tmpfs: string[];
  rootfs?: string;
  workdir?: string;
  hostname?: string;
  env: string[];
  envFile: string[];
  user?: string;
  bestEffort?: boolean;
  seccomp?: string;
}

/** Turns parsed flags into a SandboxSpec; resolveSpec then validates every value. */
export function specFromOptions(raw: Record<string, unknown>, command: string[], io: CliIO): SandboxSpec {
  const o = raw as unknown as RawSandboxOptions;
  const limits: Record<string, string> = {};
  for (const k of ['memory', 'cpus', 'cpuTime', 'pids', 'nofile', 'fsize', 'timeout'] as const) {
    if (o[k] !== undefined) limits[k] = o[k];
  }
  const env: Record<string, string> = {};
  for (const file of o.envFile) Object.assign(env, readEnvFile(path.resolve(io.cwd, file), io));
  for (const e of o.env) Object.assign(env, parseEnvEntry(e, '--env', io));
  return {
    command,
    ...(Object.keys(limits).length > 0 && { limits }),
    ...(o.net !== undefined && { network: o.net as 'none' }),
    ...(o.rw.length > 0 && { rw: o.rw }),
    ...(o.ro.length > 0 && { ro: o.ro }),
    ...(o.tmpfs.length > 0 && { tmpfs: o.tmpfs }),
    ...(o.rootfs !== undefined && { rootfs: o.rootfs }),
    ...(o.workdir !== undefined && { workdir: o.workdir }),
    ...(o.hostname !== undefined && { hostname: o.hostname }),
    ...(Object.keys(env).length > 0 && { env }),
    ...(o.user !== undefined && { user: parseUser(o.user) }),
    ...(o.bestEffort && { bestEffort: true }),
    ...(o.seccomp !== undefined && { seccomp: o.seccomp }),
    ...macosFromOptions(raw),
  };
}

function parseEnvEntry(entry: string, field: string, io: CliIO): Record<string, string> {
  const eq = entry.indexOf('=');
  if (eq === -1) {
    // Like docker: a bare name copies the variable from corral's environment, if set.
    const v = io.env[entry];
    return v === undefined ? {} : { [entry]: v };
  }
  const key = entry.slice(0, eq);
  if (key === '')
    throw new ConfigError(field, `${field}: missing variable name in ${JSON.stringify(entry)}`, {
      value: entry,
    });
  return { [key]: entry.slice(eq + 1) };
}

/** docker's env-file format: K=V per line, `#` comments, no quote processing. */
function readEnvFile(file: string, io: CliIO): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '--env-file',
      `--env-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { value: file },
    );
  }
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trimStart();
    if (t === '' || t.startsWith('#')) return;
    try {
      Object.assign(out, parseEnvEntry(t, '--env-file', io));
    } catch {
      throw new ConfigError('--env-file', `--env-file: ${file}:${i + 1}: not K=V: ${JSON.stringify(line)}`, {
        value: line,
      });
    }
  });
  return out;
}

function parseUser(value: string): { uid: number; gid: number } {
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(value);
  if (!m)
    throw new ConfigError('user', `--user: expected UID or UID:GID (numbers), got ${JSON.stringify(value)}`, {
      value,
    });
  const uid = Number(m[1]);
  return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
}
