import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { RunResult, SandboxSpec } from '../../../src/index.js';
import type { Attempt } from './types.js';
import { py, verdict } from './types.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/run-spec.mts');
let terminal = '';

/**
 * Runs the spec from a corral whose stdin is a real terminal (a pty from script(1)), handed on to
 * the sandbox as `corral run` does, so the command holds the terminal a person is typing into.
 */
async function runOnTerminal(spec: SandboxSpec): Promise<RunResult> {
  const inner = [
    process.execPath,
    '--import',
    'tsx',
    FIXTURE,
    JSON.stringify(spec),
    JSON.stringify({ stdin: 'inherit' }),
  ];
  const quoted = inner.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'close');
  terminal = out;
  const json = out.split(/\r?\n/).find((l) => l.startsWith('{"exitCode"'));
  if (!json) throw new Error(`the corral fixture failed on the terminal: ${out.slice(0, 300)}`);
  return JSON.parse(json) as RunResult;
}

/** Typing into the terminal the sandbox was started from. */
export const TERMINAL_ATTEMPTS: Attempt[] = [
  {
    id: 'tiocsti-host-terminal',
    category: 'terminal',
    title: 'push a command into the terminal corral was started from (TIOCSTI on stdin, a real tty)',
    spec: () => ({
      command: py(
        'import fcntl, os, termios\nprint("stdin is a tty:", os.isatty(0))\ninjected = 0\n' +
          'for ch in b"echo INJECTED-BY-SANDBOX\\n":\n    try:\n        fcntl.ioctl(0, termios.TIOCSTI, bytes([ch])); injected += 1\n' +
          '    except OSError as e:\n        print("TIOCSTI refused:", e.strerror); break\nprint("injected", injected)',
      ),
    }),
    run: (spec) => runOnTerminal(spec),
    judge: (r) =>
      verdict(
        r,
        /stdin is a tty: True/.test(r.stdout ?? '') &&
          /injected 0/.test(r.stdout ?? '') &&
          !terminal.includes('INJECTED-BY-SANDBOX\r\n'),
        'nothing reached the terminal',
      ),
  },
];
