import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import { ConfigError, CorralError, ExistsError, LaunchError } from '../errors.js';
import type { ProcessLauncher } from '../process/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { validateName } from './names.js';
import { imageDir } from './paths.js';

/** A root filesystem registered with `corral image import`. */
export interface ImageInfo {
  readonly name: string;
  readonly createdAt: string;
  /** What it was imported from. */
  readonly source: string;
  readonly files: number;
  readonly sizeBytes: number;
  /** Device nodes found in the source and not imported. */
  readonly devicesDropped: number;
  /** The tree containers get a copy-on-write view of. */
  readonly rootfs: string;
}

const TOOL_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Reads a registered image; throws a clear error when there is none by that name. */
export function loadImage(dataDir: string, name: string): ImageInfo {
  validateName('image', name);
  const dir = imageDir(dataDir, name);
  try {
    return JSON.parse(readFileSync(path.join(dir, 'image.json'), 'utf8')) as ImageInfo;
  } catch {
    throw new CorralError(
      'E_NOT_FOUND',
      `no such image: ${name} (import one with: corral image import DIR|TAR ${name})`,
      {
        name,
      },
    );
  }
}

export function listImages(dataDir: string): ImageInfo[] {
  let names: string[];
  try {
    names = readdirSync(path.join(dataDir, 'images')).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  const out: ImageInfo[] = [];
  for (const n of names.sort()) {
    try {
      out.push(loadImage(dataDir, n));
    } catch {
      // half-imported or foreign directory
    }
  }
  return out;
}

/**
 * Registers a directory tree or a tar archive as an image. It is unpacked into a temporary
 * directory and renamed into place, so an interrupted import never leaves a half image under
 * the name. Device nodes are dropped: in a sandbox they could open host devices.
 */
export async function importImage(
  launcher: ProcessLauncher,
  dataDir: string,
  source: string,
  name: string,
): Promise<ImageInfo> {
  validateName('image', name);
  const src = path.resolve(source);
  let st;
  try {
    st = statSync(src);
  } catch {
    throw new ConfigError('source', `image source does not exist: ${JSON.stringify(source)}`, {
      value: source,
    });
  }
  const final = imageDir(dataDir, name);
  mkdirSync(path.dirname(final), { recursive: true, mode: 0o711 });
  try {
    statSync(final);
    throw new ExistsError(`an image named ${name} exists already (remove it with: corral image rm ${name})`, {
      name,
    });
  } catch (err) {
    if (err instanceof ExistsError) throw err;
  }
  const tmp = path.join(path.dirname(final), `.import-${name}-${process.pid}-${Date.now()}`);
  const rootfs = path.join(tmp, 'rootfs');
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  try {
    if (st.isDirectory()) await tool(launcher, 'cp', ['-a', '--', `${src}/.`, rootfs]);
    else
      await tool(launcher, 'tar', ['-x', '-f', src, '-C', rootfs, '--numeric-owner', '--no-overwrite-dir']);
    const counts = scrub(rootfs);
    const info: ImageInfo = {
      name,
      createdAt: new Date().toISOString(),
      source: src,
      ...counts,
      rootfs: path.join(final, 'rootfs'),
    };
    writeFileAtomic(path.join(tmp, 'image.json'), `${JSON.stringify(info, null, 2)}\n`);
    try {
      renameSync(tmp, final);
    } catch (err) {
      if (['EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? ''))
        throw new ExistsError(`an image named ${name} exists already`, { name });
      throw err;
    }
    return info;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Removes an image; refused while a container still uses it (its overlay reads from it). */
export function removeImage(dataDir: string, name: string, usedBy: readonly string[]): void {
  loadImage(dataDir, name);
  if (usedBy.length > 0)
    throw new CorralError(
      'E_STATE',
      `image ${name} is used by container(s) ${usedBy.join(', ')}; remove them first`,
      {
        name,
        usedBy,
      },
    );
  const dir = imageDir(dataDir, name);
  const trash = path.join(path.dirname(dir), `.rm-${name}-${process.pid}-${Date.now()}`);
  renameSync(dir, trash);
  rmSync(trash, { recursive: true, force: true });
}

function scrub(root: string): { files: number; sizeBytes: number; devicesDropped: number } {
  let files = 0;
  let sizeBytes = 0;
  let devicesDropped = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isBlockDevice() || e.isCharacterDevice()) {
        unlinkSync(p);
        devicesDropped++;
        continue;
      }
      files++;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) sizeBytes += lstatSync(p).size;
    }
  };
  walk(root);
  return { files, sizeBytes, devicesDropped };
}

async function tool(launcher: ProcessLauncher, file: string, args: string[]): Promise<void> {
  const p = launcher.launch({
    file,
    args,
    env: { PATH: TOOL_PATH, LANG: 'C' },
    cwd: '/',
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  });
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const e = await p.exit;
  if (e.code !== 0)
    throw new LaunchError(
      `${file} failed while importing the image: ${err.trim().split('\n')[0] || `exit ${e.code}`}`,
    );
}
