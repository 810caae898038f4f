import { z } from 'zod';
import { seccompFieldSchema } from './seccomp.js';
import { MAX_SAFE, parseCpus, parseDuration, parseSize } from './units.js';

/** Refuses strings the kernel would silently truncate (argv, env and paths are C strings). */
const noNul = (s: string) => !s.includes('\0');

const sizeField = (what: string, min: number) =>
  z.union([z.string().max(64), z.number()]).transform((raw, ctx) => {
    const v = parseSize(raw);
    if (v === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${what}: not a size (use e.g. 256Mi, 1G, 4096): ${show(raw)}`,
      });
      return z.NEVER;
    }
    if (v < min || v > MAX_SAFE) {
      ctx.addIssue({
        code: 'custom',
        message: `${what}: must be between ${min} and ${MAX_SAFE} bytes, got ${show(raw)}`,
      });
      return z.NEVER;
    }
    return v;
  });

const durationField = (what: string) =>
  z.union([z.string().max(64), z.number()]).transform((raw, ctx) => {
    const v = parseDuration(raw);
    if (v === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${what}: not a duration (use e.g. 500ms, 10s, 2m; numbers are milliseconds): ${show(raw)}`,
      });
      return z.NEVER;
    }
    // 1 ms is the timer resolution; a year is far beyond any sane sandbox and keeps timers valid.
    if (!(v >= 1) || v > 365 * 24 * 3_600_000) {
      ctx.addIssue({
        code: 'custom',
        message: `${what}: must be between 1ms and 365 days, got ${show(raw)}`,
      });
      return z.NEVER;
    }
    return v;
  });

const countField = (what: string, max: number) =>
  z.union([z.string().max(32), z.number()]).transform((raw, ctx) => {
    const v = typeof raw === 'number' ? raw : /^\s*\d{1,16}\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(v) || v < 1 || v > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${what}: must be a whole number from 1 to ${max}, got ${show(raw)}`,
      });
      return z.NEVER;
    }
    return v;
  });

const cpusField = z.union([z.string().max(32), z.number()]).transform((raw, ctx) => {
  const v = parseCpus(raw);
  // CFS quota has a 1 ms minimum per 100 ms period: 0.01 CPU is the smallest meaningful value.
  if (v === undefined || !(v >= 0.01) || v > 4096) {
    ctx.addIssue({
      code: 'custom',
      message: `cpus: must be a number of CPUs from 0.01 to 4096 (e.g. 0.5, 2, 500m), got ${show(raw)}`,
    });
    return z.NEVER;
  }
  return v;
});

const sandboxPath = (what: string) =>
  z
    .string()
    .min(1, `${what}: must not be empty`)
    .max(4096, `${what}: longer than 4096 characters`)
    // The kernel's limit (PATH_MAX) is in bytes: 3000 emoji are 12000 of them.
    .refine((s) => Buffer.byteLength(s) <= 4096, `${what}: longer than 4096 bytes`)
    .refine(noNul, `${what}: contains a NUL byte`);

export const limitsSchema = z
  .object({
    /** Memory for the whole sandbox (cgroup), e.g. `256Mi`. Default: unlimited. */
    memory: sizeField('memory', 1 << 20).optional(),
    /** CPU bandwidth in CPUs (cgroup quota), e.g. `0.5`. Default: unlimited. */
    cpus: cpusField.optional(),
    /** CPU time per process (RLIMIT_CPU), e.g. `10s`. Default: unlimited. */
    cpuTime: durationField('cpuTime').optional(),
    /** Maximum number of processes and threads in the sandbox (cgroup pids). Default: unlimited. */
    pids: countField('pids', 4_194_304).optional(),
    /** Maximum open file descriptors per process (RLIMIT_NOFILE). Default: inherited. */
    nofile: countField('nofile', 1_048_576).optional(),
    /** Largest file a process may write (RLIMIT_FSIZE), e.g. `64Mi`. Default: unlimited. */
    fsize: sizeField('fsize', 1).optional(),
    /** Wall-clock limit for the whole run, e.g. `30s`. Default: none. */
    timeout: durationField('timeout').optional(),
    /** Cap on each captured output stream (library capture only). Default: `16Mi`. */
    output: sizeField('output', 0).optional(),
  })
  .strict();

const bindSchema = z.union([
  sandboxPath('bind'),
  z.object({ source: sandboxPath('bind source'), target: sandboxPath('bind target').optional() }).strict(),
]);

const portList = (what: string) =>
  z
    .array(
      z
        .number({ message: `${what}: ports are numbers` })
        .int(`${what}: ports are whole numbers`)
        .min(1, `${what}: ports are 1-65535`)
        .max(65535, `${what}: ports are 1-65535`),
    )
    .max(256, `${what}: at most 256 ports`);

/** Settings only the macOS (Seatbelt) backend applies; other backends ignore them. */
export const macosSchema = z
  .object({
    /**
     * With network `none`: localhost ports the sandbox may still use. `bind` ports it may listen
     * on (and accept connections to), `connect` ports it may connect to. Default: none.
     */
    localhost: z
      .object({
        bind: portList('macos.localhost.bind').optional(),
        connect: portList('macos.localhost.connect').optional(),
      })
      .strict()
      .optional(),
    /** GPU access: `none` (default), `metal` (Metal compute with shader compilation), `mps` (MPS only). */
    gpu: z
      .enum(['none', 'metal', 'mps'], { message: 'macos.gpu: must be "none", "metal" or "mps"' })
      .optional(),
    /**
     * RLIMIT_AS for every process, best-effort: macOS takes it but does not hold every allocation
     * to it, and runtimes that reserve address space up front (V8, Go, the JVM) fail under a low
     * one. The memory limit (an RSS watchdog) is the real one. Default: none.
     */
    addressSpace: sizeField('macos.addressSpace', 1 << 20).optional(),
  })
  .strict();

const envKey = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,255}$/,
    'env: names are letters, digits and _ and do not start with a digit',
  );

export const sandboxSpecSchema = z
  .object({
    /** The command and its arguments. `command[0]` is looked up on the sandbox's PATH. */
    command: z
      .array(z.string().max(131072).refine(noNul, 'command: an argument contains a NUL byte'))
      .min(1, 'command: must not be empty')
      .max(65536)
      .refine((c) => (c[0] ?? '') !== '', 'command: the program name is empty'),
    /** Extra environment on top of PATH, HOME, LANG and TERM. Default: none. */
    env: z
      .record(envKey, z.string().max(131072).refine(noNul, 'env: a value contains a NUL byte'))
      .optional(),
    /** Working directory inside the sandbox (absolute). Default: `/`. */
    workdir: sandboxPath('workdir').optional(),
    /** `none` (default): private loopback only. `host`: share the host's network. */
    network: z
      .string()
      .max(64)
      .transform((raw, ctx) => {
        if (raw === 'none' || raw === 'host') return raw;
        ctx.addIssue({ code: 'custom', message: `network: must be "none" or "host", got ${show(raw)}` });
        return z.NEVER;
      })
      .optional(),
    /** Hostname inside the sandbox. Default: `corral`. */
    hostname: z
      .string()
      .regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, 'hostname: must be a valid host name label')
      .optional(),
    /** A directory to use as the sandbox's root instead of the read-only host root. */
    rootfs: sandboxPath('rootfs').optional(),
    /** Host paths mounted read-write (`/path` or `{ source, target }`). */
    rw: z.array(bindSchema).max(256).optional(),
    /** Host paths mounted read-only. */
    ro: z.array(bindSchema).max(256).optional(),
    /** Sandbox paths that get an empty private tmpfs. */
    tmpfs: z.array(sandboxPath('tmpfs')).max(256).optional(),
    limits: limitsSchema.optional(),
    /** Run even when some limit cannot be enforced here; the result lists what was not. Default: false. */
    bestEffort: z.boolean().optional(),
    /** macOS-only settings (Seatbelt network ports, GPU, RLIMIT_AS). Ignored on other platforms. */
    macos: macosSchema.optional(),
    /** Host uid/gid for the sandbox when corral runs as root. Default: 2000000000:2000000000. */
    user: z
      .object({
        uid: z.number().int().min(1).max(4_294_967_294),
        gid: z.number().int().min(1).max(4_294_967_294),
      })
      .strict()
      .optional(),
    /**
     * System call filter: `default` (corral's deny list, answered with EPERM), `none`, the path of a
     * JSON policy file, or a policy object `{ default?, extends?, deny?, allow? }`. Default: `default`.
     */
    seccomp: seccompFieldSchema.optional(),
  })
  .strict();

/** What callers pass in: strings with units or plain numbers (bytes, milliseconds). */
export type SandboxSpec = z.input<typeof sandboxSpecSchema>;
export type SandboxLimits = z.input<typeof limitsSchema>;
export type MacosSpec = z.input<typeof macosSchema>;
export type ParsedSpec = z.output<typeof sandboxSpecSchema>;

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
