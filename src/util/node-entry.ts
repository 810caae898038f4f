import { fileURLToPath } from 'node:url';

/**
 * How to start a module of corral's as a Node process of its own: the compiled `.js` beside the
 * caller, or, when running from TypeScript sources (tests, development), the `.ts` with tsx's
 * loader. `from` is the caller's `import.meta.url`, `name` the sibling module without extension.
 */
export function nodeEntry(from: string, name: string): { file: string; execArgv: string[] } {
  if (!from.endsWith('.ts')) return { file: fileURLToPath(new URL(`./${name}.js`, from)), execArgv: [] };
  return {
    file: fileURLToPath(new URL(`./${name}.ts`, from)),
    execArgv: ['--import', import.meta.resolve('tsx')],
  };
}
