import type { ProcessLauncher } from '../../process/types.js';
import { runProbe } from '../probe.js';

/** What the installed bubblewrap can do beyond the options every supported version has. */
export interface BwrapFeatures {
  readonly version: string | undefined;
  /** `--disable-userns` (bubblewrap 0.8.0 and later). */
  readonly disableUserns: boolean;
}

export const NO_BWRAP_FEATURES: BwrapFeatures = { version: undefined, disableUserns: false };

const cache = new Map<string, Promise<BwrapFeatures>>();

/** Reads `bwrap --version` once per binary; an unreadable version means no optional features. */
export function bwrapFeatures(launcher: ProcessLauncher, bwrapPath: string): Promise<BwrapFeatures> {
  let found = cache.get(bwrapPath);
  if (!found) {
    found = runProbe(launcher, bwrapPath, ['--version'], {}, 3000).then((r) => {
      const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(r.ok ? r.stdout : '');
      if (!m) return NO_BWRAP_FEATURES;
      const [major, minor] = [Number(m[1]), Number(m[2])];
      return { version: m[0], disableUserns: major > 0 || minor >= 8 };
    });
    cache.set(bwrapPath, found);
  }
  return found;
}
