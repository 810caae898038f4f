import { firstPositional, programName, skipOptions, toArgv, unwrap, type ArgvLike } from './argv.js';

const none = new Set<string>();
const set = (...xs: string[]) => new Set(xs);

/** Subcommand-style managers: the first positional after the manager's own options is the verb. */
interface VerbRule {
  readonly valued: ReadonlySet<string>;
  readonly verbs: ReadonlySet<string>;
  /** Multi-word verbs (`global add`, `tool install`, `add package`). */
  readonly then?: Readonly<Record<string, ReadonlySet<string>>>;
  /** The bare command installs (`yarn` alone installs the lockfile). */
  readonly bare?: boolean;
}

const NPM_INSTALL = [
  ...['i', 'in', 'ins', 'inst', 'insta', 'instal', 'install', 'isnt', 'isnta', 'isntal', 'isntall'],
  ...['add', 'ci', 'clean-install', 'ic', 'install-clean', 'isntall-clean'],
  ...['install-ci-test', 'cit', 'install-test', 'it'],
];

const VERB_RULES: Readonly<Record<string, VerbRule>> = {
  npm: {
    valued: set(
      '--prefix',
      '--registry',
      '--cache',
      '--userconfig',
      '--globalconfig',
      '--loglevel',
      '-w',
      '--workspace',
      '--location',
    ),
    verbs: new Set(NPM_INSTALL),
  },
  yarn: {
    valued: set('--cwd', '--modules-folder', '--cache-folder', '--registry', '--mutex'),
    verbs: set('add', 'install'),
    then: { global: set('add') },
    bare: true,
  },
  pnpm: {
    valued: set('-C', '--dir', '--filter', '-F', '--registry', '--store-dir', '--reporter'),
    verbs: set('add', 'install', 'i', 'install-test', 'it'),
  },
  bun: { valued: set('--cwd', '-c', '--config'), verbs: set('add', 'a', 'install', 'i') },
  deno: { valued: none, verbs: set('install', 'add') },
  pip: {
    valued: set(
      '--python',
      '--cache-dir',
      '--log',
      '--proxy',
      '--cert',
      '--client-cert',
      '--timeout',
      '--retries',
      '--exists-action',
      '--trusted-host',
      '--use-feature',
    ),
    verbs: set('install'),
  },
  pipx: { valued: none, verbs: set('install', 'inject', 'run') },
  uv: {
    valued: set('--directory', '--project', '--cache-dir', '--python', '-p'),
    verbs: set('add'),
    then: { pip: set('install'), tool: set('install') },
  },
  poetry: { valued: set('-C', '--directory', '-P', '--project'), verbs: set('add', 'install') },
  pdm: { valued: set('-p', '--project'), verbs: set('add', 'install') },
  conda: { valued: none, verbs: set('install', 'create') },
  mamba: { valued: none, verbs: set('install', 'create') },
  micromamba: { valued: none, verbs: set('install', 'create') },
  'apt-get': {
    valued: set('-o', '-c', '-t', '--target-release', '--option', '--config-file'),
    verbs: set('install', 'reinstall', 'build-dep'),
  },
  apt: {
    valued: set('-o', '-c', '-t', '--target-release', '--option', '--config-file'),
    verbs: set('install', 'reinstall', 'build-dep'),
  },
  aptitude: { valued: set('-o', '-t', '--target-release'), verbs: set('install', 'reinstall') },
  yum: {
    valued: set('-c', '--config', '--installroot', '--releasever', '-x', '--exclude'),
    verbs: set('install', 'reinstall', 'localinstall', 'groupinstall'),
  },
  dnf: {
    valued: set('-c', '--config', '--installroot', '--releasever', '-x', '--exclude'),
    verbs: set('install', 'reinstall', 'localinstall', 'groupinstall'),
  },
  microdnf: { valued: none, verbs: set('install', 'reinstall') },
  apk: {
    valued: set('-X', '--repository', '-p', '--root', '--arch', '--cache-dir', '--keys-dir'),
    verbs: set('add'),
  },
  zypper: {
    valued: set('-R', '--root', '-c', '--config'),
    verbs: set('install', 'in', 'source-install', 'si'),
  },
  brew: { valued: none, verbs: set('install', 'reinstall') },
  port: { valued: none, verbs: set('install') },
  snap: { valued: none, verbs: set('install') },
  flatpak: { valued: none, verbs: set('install') },
  nix: { valued: none, verbs: none, then: { profile: set('install', 'add') } },
  cargo: { valued: set('-C', '--config', '-Z'), verbs: set('install', 'add') },
  go: { valued: none, verbs: set('get', 'install') },
  gem: { valued: none, verbs: set('install') },
  bundle: { valued: none, verbs: set('install', 'add') },
  composer: { valued: set('-d', '--working-dir'), verbs: set('require', 'install') },
  luarocks: { valued: set('--tree', '--server'), verbs: set('install') },
  opam: { valued: none, verbs: set('install') },
  cabal: { valued: none, verbs: set('install') },
  dotnet: { valued: none, verbs: none, then: { add: set('package'), tool: set('install') } },
};

/** `pip3.11` → `pip`, `python3.12` → `python`: versioned names behave like the plain ones. */
function family(name: string): string {
  const m = /^(pip|python|pypy|ruby|gem|node)[\d.]*$/.exec(name);
  return m ? (m[1] as string) : name;
}

function verbRuleMatches(rule: VerbRule, argv: readonly string[]): boolean {
  // `cargo +nightly install`: a toolchain selector is not the verb.
  const start = argv[1]?.startsWith('+') ? 2 : 1;
  const { word, index } = firstPositional(argv, start, rule.valued);
  if (word === undefined)
    return rule.bare === true && !argv.some((a) => /^(-v|-h|--version|--help)$/.test(a));
  if (rule.verbs.has(word)) return true;
  const next = rule.then?.[word];
  if (!next) return false;
  return next.has(firstPositional(argv, index + 1, rule.valued).word ?? '');
}

/**
 * True when the argv installs packages: npm/yarn/pnpm/bun, pip (also `python -m pip`, `uv pip`),
 * poetry, conda, apt/apt-get, dnf/yum, apk, zypper, pacman, dpkg -i, brew, cargo, go get/install,
 * gem, bundle, composer and more. Works on parsed arguments (`npm --prefix x i left-pad`).
 */
export function isPackageInstall(x: ArgvLike): boolean {
  const argv = unwrap(toArgv(x));
  const name = family(programName(argv[0]));
  if (name === 'python' || name === 'pypy') return pythonModuleInstall(argv);
  if (name === 'pacman') return pacmanInstall(argv);
  if (name === 'dpkg') return argv.some((a) => a === '-i' || a === '--install');
  if (name === 'nix-env') return argv.some((a) => a === '--install' || /^-[a-zA-Z]*i/.test(a));
  if (name === 'cpanm') return argv.length > 1;
  if (name === 'cpan') return argv.slice(1).some((a) => a === '-i' || !a.startsWith('-'));
  const rule = VERB_RULES[name];
  return rule !== undefined && verbRuleMatches(rule, argv);
}

/** `python3 -I -m pip install x`. */
function pythonModuleInstall(argv: readonly string[]): boolean {
  const m = argv.indexOf('-m');
  if (m < 0 || skipOptions(argv, 1, set('-W', '-X', '-c')) < m) return false;
  const mod = argv[m + 1];
  if (mod === 'pip' || mod === 'pip3') return verbRuleMatches(VERB_RULES.pip as VerbRule, argv.slice(m + 1));
  if (mod === 'ensurepip') return true;
  return false;
}

/** pacman installs with -S (sync) and package targets, or -U (local files). */
function pacmanInstall(argv: readonly string[]): boolean {
  const ops = argv.slice(1).filter((a) => /^-[A-Za-z]+$/.test(a));
  const targets = argv.slice(1).filter((a) => !a.startsWith('-'));
  if (ops.some((o) => o.includes('U'))) return true;
  return ops.some((o) => o.includes('S') && !/[sicgl]/.test(o.replace('S', ''))) && targets.length > 0;
}
