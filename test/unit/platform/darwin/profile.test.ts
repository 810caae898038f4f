import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../../../src/errors.js';
import { generateProfile, type GenerateOptions } from '../../../../src/platform/darwin/profile.js';
import type { SeatbeltPolicy } from '../../../../src/platform/darwin/profile-types.js';
import { readAll, shape, strings, type Node } from '../../../helpers/sexpr.js';

const GOLDEN = path.resolve(import.meta.dirname, '../../../fixtures/darwin');
const WS = '/private/var/folders/x1/abc/T/corral-run1';

const base: SeatbeltPolicy = {
  workspace: WS,
  writable: [],
  readonly: [],
  network: { mode: 'none' },
  gpu: 'none',
};

/** Compares with a checked-in profile; UPDATE_GOLDEN=1 rewrites the fixtures instead. */
function golden(name: string, policy: SeatbeltPolicy, options: GenerateOptions = {}): void {
  const p = generateProfile(policy, options);
  const file = path.join(GOLDEN, `${name}.sb`);
  const paramsFile = path.join(GOLDEN, `${name}.params.json`);
  const params = `${JSON.stringify(p.params, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(file, p.text);
    writeFileSync(paramsFile, params);
  }
  assert.equal(p.text, readFileSync(file, 'utf8'), `${name}.sb differs (UPDATE_GOLDEN=1 to accept)`);
  // Compared as data: the formatter may lay the JSON out its own way.
  assert.deepEqual(JSON.parse(params), JSON.parse(readFileSync(paramsFile, 'utf8')));
}

function forms(text: string): Node[][] {
  const nodes = readAll(text);
  for (const n of nodes) assert.ok(Array.isArray(n), 'every top-level item is a form');
  return nodes as Node[][];
}

describe('generateProfile: golden profiles', () => {
  it('writes the minimal deny-by-default profile', () => golden('minimal', base));

  it('writes localhost ports, rw and ro directories and an MPS section', () =>
    golden('localhost-mps', {
      ...base,
      rootfs: '/Users/dev/rootfs',
      writable: ['/Users/dev/project'],
      readonly: ['/Users/dev/datasets', '/opt/models'],
      network: { mode: 'localhost', bind: [8080, 8081], connect: [5432] },
      gpu: 'mps',
    }));

  it('writes full network and Metal with the fine-grained IOKit rules', () =>
    golden('full-metal', { ...base, network: { mode: 'full' }, gpu: 'metal', fineGrainedIokit: true }));

  it('writes hostile paths escaped when paths are inlined', () =>
    golden(
      'inline-hostile',
      {
        ...base,
        writable: ['/Users/dev/say "hi"', '/Users/dev/back\\slash'],
        readonly: ['/Users/dev/(paren);x'],
      },
      { pathStyle: 'inline' },
    ));
});

describe('generateProfile: structure', () => {
  it('starts with (version 1) and (deny default) and only ever allows after that', () => {
    const f = forms(generateProfile({ ...base, network: { mode: 'full' }, gpu: 'metal' }).text);
    assert.deepEqual(f[0], [{ sym: 'version' }, { sym: '1' }]);
    assert.deepEqual(f[1], [{ sym: 'deny' }, { sym: 'default' }]);
    for (const rule of f.slice(2)) assert.deepEqual(rule[0], { sym: 'allow' });
  });

  it('keeps user paths out of the profile text by default and passes them as -D parameters', () => {
    const p = generateProfile({ ...base, writable: ['/Users/dev/proj'] });
    assert.ok(!p.text.includes('/Users/dev/proj'));
    assert.ok(p.text.includes('(subpath (param "CORRAL_RW_0"))'));
    assert.deepEqual(p.args.slice(0, 1), ['-p']);
    assert.ok(p.args.includes('CORRAL_RW_0=/Users/dev/proj'));
    assert.ok(p.args.includes(`CORRAL_WORKSPACE_0=${WS}`));
  });

  it('opens no network at all for mode none', () => {
    const text = generateProfile(base).text;
    assert.ok(!/network|system-socket/.test(text.replace(/^;.*$/gm, '')));
  });

  it('lets a localhost bind port accept and a connect port be reached, and nothing else', () => {
    const f = forms(
      generateProfile({ ...base, network: { mode: 'localhost', bind: [3000], connect: [6379] } }).text,
    );
    const net = f.filter((r) => /^network/.test((r[1] as { sym: string }).sym));
    assert.deepEqual(
      net.map((r) => JSON.stringify(r.slice(1))),
      [
        JSON.stringify([
          { sym: 'network-bind' },
          [{ sym: 'local' }, { sym: 'ip' }, { str: 'localhost:3000' }],
        ]),
        JSON.stringify([
          { sym: 'network-inbound' },
          [{ sym: 'local' }, { sym: 'ip' }, { str: 'localhost:3000' }],
        ]),
        JSON.stringify([
          { sym: 'network-outbound' },
          [{ sym: 'remote' }, { sym: 'ip' }, { str: 'localhost:6379' }],
        ]),
      ],
    );
  });

  it('leaves IOKit denied without a GPU, and MPS narrower than Metal', () => {
    const none = generateProfile(base).text;
    const mps = generateProfile({ ...base, gpu: 'mps' }).text;
    const metal = generateProfile({ ...base, gpu: 'metal' }).text;
    assert.ok(!none.includes('iokit'));
    assert.ok(mps.includes('AGXDeviceUserClient') && !mps.includes('AGXCompilerService'));
    assert.ok(metal.includes('AGXCompilerService'));
    assert.ok(metal.length > mps.length);
    assert.ok(!metal.includes('iokit-open-service'), 'fine-grained rules only when asked for');
  });
});

describe('generateProfile: paths it refuses', () => {
  const refuses = (policy: Partial<SeatbeltPolicy>, field: string, options: GenerateOptions = {}) =>
    assert.throws(
      () => generateProfile({ ...base, ...policy }, options),
      (err: unknown) => err instanceof ConfigError && err.field === field,
      JSON.stringify(policy),
    );

  it('refuses relative, unnormalized and dot-dot paths', () => {
    refuses({ writable: ['relative/dir'] }, '--rw');
    refuses({ writable: ['/a/../etc'] }, '--rw');
    refuses({ readonly: ['/a//b'] }, '--ro');
    refuses({ readonly: ['/a/b/'] }, '--ro');
    refuses({ rootfs: '/a/./b' }, 'rootfs');
    refuses({ workspace: 'tmp' }, 'workspace');
  });

  it('refuses to make / writable', () => refuses({ writable: ['/'] }, '--rw'));

  it('refuses control characters in inlined paths, naming the field and the character', () => {
    for (const bad of [
      '/a\nb',
      '/a\rb',
      '/a\u0000b'.replace('\u0000', '\u0001'),
      '/tab\there',
      '/del\u007f',
      '/c1\u0085',
    ])
      refuses({ writable: [bad] }, '--rw', { pathStyle: 'inline' });
    assert.throws(
      () => generateProfile({ ...base, readonly: ['/x\ny'] }, { pathStyle: 'inline' }),
      /--ro: contains a control character \(U\+000A\)/,
    );
  });

  it('carries control characters exactly as parameters, where no literal is needed', () => {
    const p = generateProfile({ ...base, writable: ['/a\nb'] });
    assert.ok(p.args.includes('CORRAL_RW_0=/a\nb'));
    forms(p.text);
  });

  it('refuses out-of-range ports', () => {
    assert.throws(
      () => generateProfile({ ...base, network: { mode: 'localhost', bind: [0], connect: [] } }),
      (err: unknown) => err instanceof ConfigError && err.field === 'macos.localhost.bind',
    );
  });
});

describe('generateProfile: hostile paths (property)', () => {
  // Path segments from the characters that break naive profile builders.
  const hostileChar = fc.constantFrom(
    '"',
    '\\',
    '(',
    ')',
    ';',
    ' ',
    '#',
    "'",
    '\n',
    '\t',
    '\u0001',
    'é',
    '日',
    'a',
    'Z',
    '0',
  );
  const segment = fc
    .array(hostileChar, { minLength: 1, maxLength: 8 })
    .map((cs) => cs.join(''))
    .filter((s) => s !== '.' && s !== '..');
  const hostilePath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segs) => `/${segs.join('/')}`);
  const policyOf = (rw: string[], ro: string[]): SeatbeltPolicy => ({ ...base, writable: rw, readonly: ro });

  /** The same paths with every distinct segment renamed to a plain one: same sharing, same depth. */
  function benign(paths: string[][]): string[][] {
    const names = new Map<string, string>();
    return paths.map((group) =>
      group.map((p) =>
        p
          .split('/')
          .map((s) => (s === '' ? s : (names.get(s) ?? names.set(s, `s${names.size}`).get(s))))
          .join('/'),
      ),
    );
  }

  for (const pathStyle of ['param', 'inline'] as const) {
    it(`never lets a path change the profile structure (${pathStyle})`, () => {
      fc.assert(
        fc.property(
          fc.array(hostilePath, { maxLength: 3 }),
          fc.array(hostilePath, { maxLength: 3 }),
          (rw, ro) => {
            let p;
            try {
              p = generateProfile(policyOf(rw, ro), { pathStyle });
            } catch (err) {
              // Only inline refuses, and only for a control character.
              assert.equal(pathStyle, 'inline');
              assert.ok(err instanceof ConfigError);
              assert.ok([...rw, ...ro].some((x) => [...x].some((c) => c.charCodeAt(0) < 0x20)));
              return;
            }
            const [brw, bro] = benign([rw, ro]) as [string[], string[]];
            const reference = generateProfile(policyOf(brw, bro), { pathStyle });
            const parsed = readAll(p.text);
            assert.deepEqual(shape(parsed), shape(readAll(reference.text)));
            const carried = pathStyle === 'inline' ? strings(parsed) : p.params.map(([, v]) => v);
            for (const x of [...rw, ...ro])
              assert.ok(carried.includes(x), `path carried exactly: ${JSON.stringify(x)}`);
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});
