import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * Absolute path of a host program, searched on PATH and then the system directories (a root
 * shell's PATH can lack /usr/sbin). corral always execs host tools by absolute path.
 */
export function findHostTool(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...envPath.split(':').filter((d) => path.isAbsolute(d)), ...SYSTEM_DIRS]) {
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
