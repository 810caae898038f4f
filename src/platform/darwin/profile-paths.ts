import path from 'node:path';
import { ConfigError } from '../../errors.js';
import { form, quote, str, type SExpr } from './sbpl.js';

/**
 * How user paths reach the profile. `param` (default): the profile says `(param "CORRAL_RW_0")`
 * and the path travels as `-D CORRAL_RW_0=PATH` in sandbox-exec's argv, so its bytes never
 * touch profile text at all. `inline`: the path is a quoted string literal in the profile (a
 * self-contained profile, e.g. to save as a .sb file); characters no literal can carry are refused.
 */
export type PathStyle = 'param' | 'inline';

/** A profile path must be absolute and already normalized: Seatbelt matches canonical paths. */
export function checkProfilePath(p: string, field: string): string {
  const problem = !path.posix.isAbsolute(p)
    ? 'is not absolute'
    : p.includes('\0')
      ? 'contains a NUL byte'
      : p !== '/' && (p.endsWith('/') || p.includes('//'))
        ? 'is not normalized (trailing or doubled "/")'
        : p.split('/').some((seg) => seg === '.' || seg === '..')
          ? 'contains "." or ".." components'
          : undefined;
  if (problem) throw new ConfigError(field, `${field}: path ${problem}: ${JSON.stringify(p)}`, { value: p });
  return p;
}

/** Proper ancestors of an absolute path, outermost first: `/a/b/c` gives `/a`, `/a/b`. */
export function ancestorsOf(p: string): string[] {
  const out: string[] = [];
  const parts = p.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}

/** Hands out profile references for user paths, and collects the `-D` parameters they need. */
export class PathRefs {
  private readonly byPath = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  readonly params: [name: string, value: string][] = [];

  constructor(readonly style: PathStyle) {}

  /** A reference to `p` usable inside a filter, e.g. `(subpath REF)`. `field` names it in errors. */
  ref(p: string, role: string, field: string): SExpr {
    if (this.style === 'inline') {
      quote(p, field); // refuses, naming the field, what no string literal can carry
      return str(p);
    }
    let name = this.byPath.get(p);
    if (!name) {
      const n = this.counters.get(role) ?? 0;
      this.counters.set(role, n + 1);
      name = `CORRAL_${role}_${n}`;
      this.byPath.set(p, name);
      this.params.push([name, p]);
    }
    return form('param', str(name));
  }
}
