/**
 * A small, strict reader for Seatbelt profiles, written for the tests: balanced parentheses,
 * string literals whose only escapes are \\ and \", symbols, numbers and `;` comments. Anything
 * else is a syntax error, so a profile it accepts is well-formed by a strict standard.
 */
export type Node = { sym: string } | { str: string } | Node[];

export class SexprError extends Error {}

export function readAll(text: string): Node[] {
  let i = 0;
  const out: Node[] = [];
  const stack: Node[][] = [];
  const push = (n: Node) => (stack.length > 0 ? (stack[stack.length - 1] as Node[]).push(n) : out.push(n));
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '(') {
      stack.push([]);
      i++;
    } else if (c === ')') {
      const done = stack.pop();
      if (!done) throw new SexprError(`unbalanced ")" at ${i}`);
      push(done);
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SexprError('unterminated string');
        const d = text[i] as string;
        const code = d.charCodeAt(0);
        if (code < 0x20 || code === 0x7f) throw new SexprError(`control character in a string at ${i}`);
        if (d === '"') break;
        if (d === '\\') {
          const e = text[i + 1];
          if (e !== '\\' && e !== '"') throw new SexprError(`unknown escape \\${e} at ${i}`);
          value += e;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      push({ str: value });
    } else {
      let j = i;
      while (j < text.length && !/[\s()";]/.test(text[j] as string)) j++;
      push({ sym: text.slice(i, j) });
      i = j;
    }
  }
  if (stack.length > 0) throw new SexprError(`${stack.length} unclosed "("`);
  return out;
}

/** The tree with every string replaced by a placeholder: what a value must never change. */
export function shape(nodes: Node[]): unknown {
  const walk = (n: Node): unknown => (Array.isArray(n) ? n.map(walk) : 'str' in n ? '<string>' : n.sym);
  return nodes.map(walk);
}

/** Every string literal in the tree, decoded. */
export function strings(nodes: Node[]): string[] {
  const out: string[] = [];
  const walk = (n: Node): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if ('str' in n) out.push(n.str);
  };
  nodes.forEach(walk);
  return out;
}
