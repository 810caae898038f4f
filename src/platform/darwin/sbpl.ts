import { ConfigError } from '../../errors.js';

/**
 * Seatbelt profiles (SBPL) are Scheme s-expressions. corral builds them as a tree and prints
 * the tree, so no value is ever spliced into profile text: every string goes through `quote`,
 * which escapes what the reader treats specially and refuses what it cannot represent.
 */
export type SExpr =
  | { readonly kind: 'symbol'; readonly name: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | readonly SExpr[];

/** A top-level item of a profile: a form, a comment line or a blank line. */
export type ProfileItem =
  SExpr | { readonly kind: 'comment'; readonly text: string } | { readonly kind: 'blank' };

const SYMBOL = /^[A-Za-z][A-Za-z0-9*-]*$/;

export function sym(name: string): SExpr {
  // Symbols come from corral's own constants; a bad one is a bug, not user input.
  if (!SYMBOL.test(name)) throw new Error(`not an SBPL symbol: ${JSON.stringify(name)}`);
  return { kind: 'symbol', name };
}

export function str(value: string): SExpr {
  return { kind: 'string', value };
}

export function num(value: number): SExpr {
  if (!Number.isInteger(value) || value < 0) throw new Error(`not an SBPL number: ${value}`);
  return { kind: 'number', value };
}

/** `(head args...)` where the head is a symbol. */
export function form(head: string, ...args: SExpr[]): SExpr {
  return [sym(head), ...args];
}

export function comment(text: string): ProfileItem {
  if (/[\n\r]/.test(text)) throw new Error('an SBPL comment must be one line');
  return { kind: 'comment', text };
}

export const blank: ProfileItem = { kind: 'blank' };

// C0 controls, DEL and C1 controls: a newline or a carriage return would end a string in
// some readers, and none of them belongs in a path a person meant.
function firstControl(value: string): number | undefined {
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return c;
  }
  return undefined;
}

/** A string literal: backslash and double quote escaped; control characters refused. */
export function quote(value: string, field = 'path'): string {
  const bad = firstControl(value);
  if (bad !== undefined) {
    const code = `U+${bad.toString(16).padStart(4, '0').toUpperCase()}`;
    throw new ConfigError(
      field,
      `${field}: contains a control character (${code}) that cannot be written into a Seatbelt profile: ${JSON.stringify(value)}`,
      { value },
    );
  }
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function isList(e: SExpr): e is readonly SExpr[] {
  return Array.isArray(e);
}

function inline(e: SExpr): string {
  if (isList(e)) return `(${e.map(inline).join(' ')})`;
  if (e.kind === 'symbol') return e.name;
  if (e.kind === 'number') return String(e.value);
  return quote(e.value);
}

/**
 * One form per line; a form with several filter arguments puts each on its own indented line,
 * which keeps long rule lists readable and diffs small.
 */
export function print(e: SExpr): string {
  if (!isList(e)) return inline(e);
  const firstList = e.findIndex(isList);
  const lists = firstList === -1 ? [] : e.slice(firstList);
  if (lists.length < 2 || !lists.every(isList)) return inline(e);
  const head = e.slice(0, firstList).map(inline).join(' ');
  return `(${head}\n${lists.map((l) => `  ${inline(l)}`).join('\n')})`;
}

export function printProfile(items: readonly ProfileItem[]): string {
  const lines = items.map((item) => {
    if (!Array.isArray(item) && 'kind' in item) {
      if (item.kind === 'comment') return `; ${item.text}`;
      if (item.kind === 'blank') return '';
    }
    return print(item as SExpr);
  });
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}
