import { statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { sandboxSpecSchema, type ParsedSpec, type SandboxSpec } from './schema.js';
import { quote } from './quote.js';
import { resolveSeccomp } from './seccomp.js';
import type { Bind, MacosOptions, ResolvedSpec } from './types.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_OUTPUT_CAP = 16 * 2 ** 20;
export const DEFAULT_SANDBOX_ID = 2_000_000_000;

export interface ResolveOptions {
  /** Base for relative host paths in binds and rootfs. Default: `process.cwd()`. */
  cwd?: string;
  /** Where LANG and TERM are taken from when the spec does not set them. Default: `process.env`. */
  hostEnv?: Readonly<Record<string, string | undefined>>;
}

/**
 * Validates a spec once, at the edge, and returns the frozen form everything else trusts.
 * Throws ConfigError naming the field and the offending value.
 */
export function resolveSpec(input: SandboxSpec, options: ResolveOptions = {}): ResolvedSpec {
  const parsed = sandboxSpecSchema.safeParse(input);
  if (!parsed.success) throw toConfigError(parsed.error, input);
  const spec = parsed.data;
  const cwd = options.cwd ?? process.cwd();
  const hostEnv = options.hostEnv ?? process.env;

  const rootfs = spec.rootfs === undefined ? undefined : existingHostPath('rootfs', spec.rootfs, cwd, 'dir');
  const binds = [
    ...(spec.rw ?? []).map((b) => resolveBind(b, 'rw', cwd)),
    ...(spec.ro ?? []).map((b) => resolveBind(b, 'ro', cwd)),
  ];
  const tmpfs = (spec.tmpfs ?? []).map((p) => sandboxTarget('tmpfs', p));
  const targets = new Set<string>();
  for (const t of [...binds.map((b) => b.target), ...tmpfs]) {
    if (targets.has(t))
      throw new ConfigError('mounts', `two mounts target the same sandbox path: ${t}`, { value: t });
    targets.add(t);
  }

  const limits = spec.limits ?? {};
  return deepFreeze({
    command: [...spec.command],
    env: buildEnv(spec, hostEnv),
    workdir: spec.workdir === undefined ? '/' : sandboxTarget('workdir', spec.workdir, true),
    network: spec.network ?? 'none',
    hostname: spec.hostname ?? 'corral',
    rootfs,
    binds,
    tmpfs,
    limits: {
      ...(limits.memory !== undefined && { memoryBytes: limits.memory }),
      ...(limits.cpus !== undefined && { cpus: limits.cpus }),
      ...(limits.cpuTime !== undefined && { cpuTimeMs: limits.cpuTime }),
      ...(limits.pids !== undefined && { pids: limits.pids }),
      ...(limits.nofile !== undefined && { nofile: limits.nofile }),
      ...(limits.fsize !== undefined && { fsizeBytes: limits.fsize }),
      ...(limits.timeout !== undefined && { timeoutMs: limits.timeout }),
      outputBytes: limits.output ?? DEFAULT_OUTPUT_CAP,
    },
    bestEffort: spec.bestEffort ?? false,
    ...(spec.macos && { macos: resolveMacos(spec) }),
    user: spec.user,
    seccomp: resolveSeccomp(spec.seccomp, cwd),
  });
}

function resolveMacos(spec: ParsedSpec): MacosOptions {
  const m = spec.macos ?? {};
  const bind = [...new Set(m.localhost?.bind ?? [])];
  const connect = [...new Set(m.localhost?.connect ?? [])];
  if ((bind.length > 0 || connect.length > 0) && spec.network === 'host') {
    throw new ConfigError(
      'macos.localhost',
      'macos.localhost: ports only narrow network "none"; network "host" already allows every port',
      { value: m.localhost },
    );
  }
  return { localhost: { bind, connect }, gpu: m.gpu ?? 'none', addressSpaceBytes: m.addressSpace };
}

function buildEnv(spec: ParsedSpec, hostEnv: ResolveOptions['hostEnv'] & object): Record<string, string> {
  // The sandbox never inherits the caller's environment: it may hold tokens and keys.
  const env: Record<string, string> = {
    PATH: DEFAULT_PATH,
    HOME: '/tmp',
    LANG: hostEnv.LANG || 'C.UTF-8',
  };
  if (hostEnv.TERM) env.TERM = hostEnv.TERM;
  return { ...env, ...spec.env };
}

/** Paths whose host contents must never be bound in: they would expose or control the host. */
const FORBIDDEN_SOURCES = ['/proc', '/sys', '/dev'];
/** Sandbox paths corral mounts itself; binding over them would undo the isolation. */
const FORBIDDEN_TARGETS = ['/proc', '/dev'];

function resolveBind(
  raw: string | { source: string; target?: string | undefined },
  mode: 'rw' | 'ro',
  cwd: string,
): Bind {
  const flag = `--${mode}`;
  let source: string;
  let target: string | undefined;
  if (typeof raw === 'string') {
    // `SRC:DEST` like docker -v; a path without a colon is mounted at the same place.
    const colon = raw.indexOf(':');
    source = colon === -1 ? raw : raw.slice(0, colon);
    target = colon === -1 ? undefined : raw.slice(colon + 1);
  } else {
    source = raw.source;
    target = raw.target;
  }
  const hostPath = existingHostPath(flag, source, cwd, 'any');
  if (FORBIDDEN_SOURCES.some((p) => hostPath === p || hostPath.startsWith(`${p}/`))) {
    throw new ConfigError(flag, `${flag}: refusing to expose the host's ${hostPath} inside a sandbox`, {
      value: source,
    });
  }
  return { source: hostPath, target: sandboxTarget(flag, target ?? hostPath), mode };
}

function sandboxTarget(field: string, p: string, allowRoot = false): string {
  if (!path.posix.isAbsolute(p)) {
    throw new ConfigError(field, `${field}: sandbox path must be absolute: ${quote(p)}`, {
      value: p,
    });
  }
  const norm = path.posix.normalize(p).replace(/(.)\/+$/, '$1');
  if (p.split('/').includes('..')) {
    throw new ConfigError(field, `${field}: sandbox path must not contain "..": ${quote(p)}`, {
      value: p,
    });
  }
  if (norm === '/' && !allowRoot) {
    throw new ConfigError(field, `${field}: cannot mount over the sandbox root "/"`, { value: p });
  }
  if (FORBIDDEN_TARGETS.some((f) => norm === f || norm.startsWith(`${f}/`))) {
    throw new ConfigError(field, `${field}: ${norm} is managed by corral and cannot be mounted over`, {
      value: p,
    });
  }
  return norm;
}

function existingHostPath(field: string, p: string, cwd: string, kind: 'dir' | 'any'): string {
  const abs = path.resolve(cwd, p);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
    throw new ConfigError(field, `${field}: host path ${why}: ${quote(p)} (resolved to ${quote(abs)})`, {
      value: p,
      resolved: abs,
    });
  }
  if (kind === 'dir' && !st.isDirectory()) {
    throw new ConfigError(field, `${field}: not a directory: ${quote(p)}`, { value: p });
  }
  return abs;
}

function toConfigError(error: z.ZodError, input: unknown): ConfigError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') || 'spec';
  let value: unknown = input;
  for (const key of issue?.path ?? [])
    value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  let message = issue?.message ?? 'invalid spec';
  if (issue?.code === 'unrecognized_keys')
    message = `${field === 'spec' ? '' : `${field}: `}unknown option(s): ${issue.keys.join(', ')}`;
  else if (issue?.code === 'invalid_type') message = `${field}: ${issue.message}`;
  return new ConfigError(field, message, { value, issues: error.issues.length });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
