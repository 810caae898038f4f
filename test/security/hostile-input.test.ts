import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { main } from '../../src/cli/program.js';
import { CorralError, resolveSpec, run, type SandboxSpec } from '../../src/index.js';
import { fakeLinuxBackend } from '../helpers/fake-backend.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'corral-hostile-'));
const fake = fakeLinuxBackend({ stdout: 'fake\n' });
after(() => {
  fake.tree.cleanup();
  rmSync(cwd, { recursive: true, force: true });
});

const HUGE = [
  '1e308',
  '1e999',
  '9'.repeat(400),
  '-1',
  '-0',
  '0',
  '0x10',
  'NaN',
  'Infinity',
  '  5  ',
  '5\0',
  '½',
  '١٢',
];
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...HUGE),
  fc.constantFrom(
    '',
    ' ',
    '\0',
    'a\0b',
    '\n',
    '--',
    '-',
    '--help',
    '--version',
    '--memory',
    '--rw=/',
    '-e',
    '--seccomp=none',
  ),
  fc.constantFrom(
    '../../etc/shadow',
    '/proc/self/root',
    '/tmp/../etc',
    'a/../../b',
    '/',
    '//',
    '/dev/sda',
    '/sys',
    '~',
  ),
  fc.constantFrom(
    'x'.repeat(200_000),
    '/'.repeat(5000),
    '🙂'.repeat(3000),
    'é\u0301\u202e',
    '__proto__',
    'constructor',
  ),
);
const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, NaN, Infinity, -Infinity, 1e308, 2 ** 64, 0.0001),
);
const hostileValue = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 4 }),
);
const limits = fc.dictionary(
  fc.constantFrom(
    'memory',
    'cpus',
    'cpuTime',
    'pids',
    'nofile',
    'fsize',
    'timeout',
    'output',
    'swap',
    '__proto__',
  ),
  hostileValue,
);
/** Hostile values for every field of a spec. */
const FIELDS = {
  command: fc.oneof(
    fc.array(hostileString, { maxLength: 4 }),
    fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 3 }).map((a) => ['true', ...a]),
    hostileValue,
  ),
  env: fc.dictionary(hostileString, hostileValue, { maxKeys: 3 }),
  workdir: hostileValue,
  network: fc.oneof(fc.constantFrom('none', 'host', 'bridge'), hostileValue),
  hostname: hostileValue,
  rw: fc.array(fc.oneof(hostileString, fc.record({ source: hostileString, target: hostileValue })), {
    maxLength: 3,
  }),
  ro: fc.array(hostileString, { maxLength: 3 }),
  tmpfs: fc.array(hostileString, { maxLength: 3 }),
  limits,
  bestEffort: hostileValue,
  user: fc.record({ uid: hostileNumber, gid: hostileNumber }),
  seccomp: fc.oneof(
    hostileString,
    fc.record(
      { default: hostileValue, deny: fc.array(hostileString), allow: fc.array(hostileString) },
      { requiredKeys: [] },
    ),
  ),
};
/** Specs that would run (`true`) but for one or two hostile fields, so both outcomes occur. */
const hostileSpec = fc
  .tuple(fc.record(FIELDS), fc.subarray(Object.keys(FIELDS), { maxLength: 2 }))
  .map(([fields, keys]) => ({
    command: ['true'],
    ...Object.fromEntries(keys.map((k) => [k, (fields as Record<string, unknown>)[k]])),
  }));
const anySpec = fc.oneof(hostileSpec, fc.anything(), fc.object());

/** Resolves within `ms` or fails the property: hostile input must never hang corral. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

const typed = (err: unknown) =>
  err instanceof CorralError && typeof err.code === 'string' && err.message.length > 0;

describe('hostile input at the edges', () => {
  it('resolveSpec accepts or rejects every spec with a typed error, never anything else', (t) => {
    const seen = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(anySpec, (spec) => {
        try {
          const r = resolveSpec(spec as SandboxSpec, { cwd, hostEnv: {} });
          assert.ok(Object.isFrozen(r) && Object.isFrozen(r.limits) && r.command.length > 0);
          seen.accepted++;
        } catch (err) {
          assert.ok(typed(err), `untyped failure: ${String(err)}`);
          assert.ok((err as Error).message.length < 2000, 'messages stay readable');
          seen.rejected++;
        }
      }),
      { numRuns: 3000 },
    );
    t.diagnostic(`resolveSpec: ${JSON.stringify(seen)}`);
    assert.ok(seen.accepted > 0 && seen.rejected > 0, 'both outcomes are exercised');
  });

  it('run() resolves with a result or rejects with a typed error, in bounded time', async (t) => {
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(anySpec, async (spec) => {
        try {
          const r = await within(5000, run(spec as SandboxSpec, { backend: fake.backend, cwd }));
          assert.equal(typeof r.exitCode, 'number');
          codes.set('ran', (codes.get('ran') ?? 0) + 1);
        } catch (err) {
          assert.ok(typed(err), `untyped failure: ${String(err)}`);
          const code = (err as CorralError).code;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }),
      { numRuns: 400 },
    );
    t.diagnostic(`run(): ${JSON.stringify(Object.fromEntries(codes))}`);
    assert.ok((codes.get('ran') ?? 0) > 0, 'some hostile specs are valid and run');
  });

  const flag = fc.constantFrom(
    ...[
      '--memory',
      '--cpus',
      '--cpu-time',
      '--pids',
      '--nofile',
      '--fsize',
      '--timeout',
      '--net',
      '--rw',
      '--ro',
    ],
    ...['--tmpfs', '--rootfs', '--workdir', '--hostname', '-e', '--env', '--env-file', '--user', '--seccomp'],
    ...['--best-effort', '--json', '--help', '-h', '--version', '--bogus', '-x', '--'],
  );
  const argv = fc
    .tuple(
      fc.constantFrom('run', 'capabilities', 'rUn', '', '--help', 'create', '-V'),
      fc.array(
        fc.oneof(
          flag,
          hostileString,
          fc.tuple(flag, hostileString).map(([f, v]) => `${f}=${v}`),
        ),
        { maxLength: 6 },
      ),
      fc.array(hostileString, { maxLength: 3 }),
    )
    .map(([verb, opts, command]) => [verb, ...opts, '--', ...command])
    // Never let generated arguments write files as root: the only writing flag stays out.
    .filter((a) => !a.some((x) => x.includes('result-file')));

  it('the CLI answers every argv with an exit status, 125 for bad options, and never a stack trace', async (t) => {
    const exits = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        let out = '';
        let err = '';
        const stdout = new PassThrough().on('data', (d: Buffer) => (out += d.toString()));
        const stderr = new PassThrough().on('data', (d: Buffer) => (err += d.toString()));
        const code = await within(
          5000,
          main(args, { io: { stdout, stderr, env: {}, cwd }, backend: fake.backend }),
        );
        assert.ok(Number.isInteger(code) && code >= 0 && code <= 255, `exit ${code}`);
        assert.doesNotMatch(
          err,
          /\n\s+at .+:\d+:\d+\)?\n/,
          `stack trace for ${JSON.stringify(args)}:\n${err}`,
        );
        assert.doesNotMatch(err, /internal error/, `corral crashed on ${JSON.stringify(args)}:\n${err}`);
        if (code === 125)
          assert.match(err, /^corral: \S/m, `exit 125 without a reason for ${JSON.stringify(args)}`);
        exits.set(code, (exits.get(code) ?? 0) + 1);
      }),
      { numRuns: 500 },
    );
    t.diagnostic(`CLI exit statuses: ${JSON.stringify(Object.fromEntries(exits))}`);
    assert.ok((exits.get(125) ?? 0) > 0, 'bad options are exercised');
  });
});
