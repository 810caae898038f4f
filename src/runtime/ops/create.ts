import { mkdirSync, rmSync } from 'node:fs';
import { ConfigError, ExistsError } from '../../errors.js';
import { resolveSpec } from '../../spec/resolve.js';
import type { SandboxSpec } from '../../spec/schema.js';
import type { RuntimeContext } from '../context.js';
import { failpoint } from '../failpoints.js';
import { loadImage } from '../images.js';
import { checkLogger } from '../logger.js';
import { validateName } from '../names.js';
import { releasePort, reservePort, type PortReservation } from '../ports.js';
import { writeConfig, writeState } from '../store.js';
import type { ContainerTraceConfig, RootfsRecord } from '../types.js';

export interface CreateOptions {
  /** Run on a copy-on-write view of this image (see `corral image import`). Default: none. */
  readonly image?: string;
  /** Base directory for relative host paths in the spec. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** Where LANG and TERM come from when the spec does not set them. Default: `process.env`. */
  readonly hostEnv?: Readonly<Record<string, string | undefined>>;
  /**
   * Record when each line was written, for `logs --timestamps` and `since`. Costs one small
   * resident logger process per running container. Default false: no process of corral's
   * stays with a container, and lines have no time.
   */
  readonly logTimestamps?: boolean;
  /**
   * Record every process the container runs (and every command exec'd into it) with its
   * arguments in `containers/<name>/trace.jsonl`, which each start appends to; read it with
   * `runtime.trace(name)`. A small recorder process stays with each running container. Refused
   * when this host cannot trace. `{ backend }` forces a tracer backend. Default false.
   */
  readonly trace?: boolean | ContainerTraceConfig;
}

/**
 * Creates a container: validates the spec, claims the name, prepares the root filesystem and
 * reserves a port. Nothing runs yet. If it fails, everything it made is undone; if corral is
 * killed in the middle, the container shows as broken and `rm` cleans it up.
 */
export async function createContainer(
  ctx: RuntimeContext,
  name: string,
  input: SandboxSpec,
  options: CreateOptions = {},
): Promise<void> {
  validateName('container', name);
  if (options.image !== undefined && input.rootfs !== undefined)
    throw new ConfigError('rootfs', 'a container takes either an image or a rootfs directory, not both', {
      value: input.rootfs,
    });
  const image = options.image === undefined ? undefined : loadImage(ctx.dataDir, options.image);
  const spec = resolveSpec(input, {
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    ...(options.hostEnv !== undefined && { hostEnv: options.hostEnv }),
  });
  if (options.logTimestamps) await checkLogger(ctx.driver.launcher);
  const trace = traceConfig(options.trace);
  if (trace) await ctx.driver.checkTrace(trace);
  ctx.ensureLayout();
  const paths = ctx.paths(name);
  using _lock = await ctx.lock(name, 'create');
  try {
    mkdirSync(paths.dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ExistsError(`a container named ${name} exists already (remove it with: corral rm ${name})`, {
        name,
      });
    throw err;
  }
  let rootfs: RootfsRecord = spec.rootfs ? { mode: 'dir', path: spec.rootfs } : { mode: 'host' };
  let port: PortReservation | undefined;
  try {
    writeState(paths, { status: 'creating', port: null });
    failpoint('create:claimed');
    // Independent steps, each a host process or two: run them side by side.
    const steps = await Promise.allSettled([
      image ? ctx.driver.prepareRootfs(image, paths) : Promise.resolve(rootfs),
      ctx.driver.makeFifo(paths.block),
      reservePort(ctx.driver, undefined, paths.dir),
    ]);
    if (steps[0].status === 'fulfilled') rootfs = steps[0].value;
    if (steps[2].status === 'fulfilled') port = steps[2].value;
    const failed = steps.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Recorded at once; until then the holder is found by the container dir it keeps open.
    writeState(paths, {
      status: 'creating',
      port: port?.port ?? null,
      ...(port?.holder && { portHolder: port.holder }),
    });
    failpoint('create:rootfs');
    writeConfig(paths, {
      version: 1,
      name,
      createdAt: new Date().toISOString(),
      spec,
      rootfs,
      ...(options.logTimestamps && { logTimestamps: true }),
      ...(trace && { trace }),
    });
    writeState(paths, {
      status: 'created',
      port: port?.port ?? null,
      ...(port?.holder && { portHolder: port.holder }),
    });
  } catch (err) {
    await releasePort(ctx.driver, port?.holder).catch(() => undefined);
    await ctx.driver.releaseRootfs(paths, rootfs).catch(() => undefined);
    if (ctx.driver.mountsUnder(paths.dir).length === 0) rmSync(paths.dir, { recursive: true, force: true });
    throw err;
  }
}

function traceConfig(raw: CreateOptions['trace']): ContainerTraceConfig | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (raw === true) return {};
  if (
    typeof raw !== 'object' ||
    raw === null ||
    (raw.backend !== undefined && typeof raw.backend !== 'string')
  )
    throw new ConfigError(
      'trace',
      `create: trace must be true, false or { backend }, got ${JSON.stringify(raw)}`,
      {
        value: raw,
      },
    );
  return raw.backend === undefined ? {} : { backend: raw.backend };
}
