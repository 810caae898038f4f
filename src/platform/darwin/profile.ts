import { ConfigError } from '../../errors.js';
import { gpuSection } from './profile-gpu.js';
import { networkSection } from './profile-network.js';
import { ancestorsOf, checkProfilePath, PathRefs, type PathStyle } from './profile-paths.js';
import type { SeatbeltPolicy } from './profile-types.js';
import { blank, comment, form, num, printProfile, str, sym, type ProfileItem, type SExpr } from './sbpl.js';

/** System locations every process needs to start: dyld, libSystem, frameworks, the shared cache. */
const SYSTEM_CODE = [
  '/usr',
  '/bin',
  '/sbin',
  '/System/Library',
  '/System/Cryptexes',
  '/System/Volumes/Preboot/Cryptexes',
  '/Library/Apple',
  '/private/var/db/dyld',
  // Developer tools people run agents with: Homebrew, the command line tools, Xcode's toolchain.
  '/opt/homebrew',
  '/Library/Developer/CommandLineTools',
  '/Applications/Xcode.app/Contents/Developer',
];

/** Read-only data programs look up: /etc (hosts, resolv.conf, passwd), time zones. */
const SYSTEM_DATA = ['/private/etc', '/private/var/db/timezone'];

/** Symlinks into /private that path lookups go through. */
const SYSTEM_LINKS = ['/etc', '/tmp', '/var'];

const BASE_MACH_SERVICES = [
  'com.apple.system.opendirectoryd.libinfo',
  'com.apple.system.opendirectoryd.membership',
  'com.apple.system.notification_center',
  'com.apple.logd',
];

export interface GeneratedProfile {
  /** The profile text, for `sandbox-exec -p`. */
  readonly text: string;
  /** `-D NAME=VALUE` definitions the profile's `(param ...)` references need. */
  readonly params: readonly (readonly [string, string])[];
  /** sandbox-exec's options: `-p TEXT` and one `-D NAME=VALUE` per parameter. */
  readonly args: readonly string[];
}

export interface GenerateOptions {
  /** Default `param`: user paths never enter the profile text (see PathStyle). */
  readonly pathStyle?: PathStyle;
}

const subpaths = (refs: readonly SExpr[]) => refs.map((r) => form('subpath', r));

/** Generates a deny-by-default Seatbelt profile from a policy. Throws ConfigError on a bad path. */
export function generateProfile(policy: SeatbeltPolicy, options: GenerateOptions = {}): GeneratedProfile {
  const refs = new PathRefs(options.pathStyle ?? 'param');
  const user = userDirs(policy);

  const items: ProfileItem[] = [
    form('version', num(1)),
    form('deny', sym('default')),
    blank,
    comment('processes: children inherit this profile; signals and process info stay inside it'),
    form('allow', sym('process-fork')),
    form('allow', sym('process-exec')),
    form('allow', sym('signal'), form('target', sym('same-sandbox'))),
    form('allow', sym('process-info*'), form('target', sym('same-sandbox'))),
    form('allow', sym('sysctl-read')),
    form('allow', sym('system-info')),
    form('allow', sym('mach-lookup'), ...BASE_MACH_SERVICES.map((s) => form('global-name', str(s)))),
    blank,
    comment('system libraries, frameworks and tools: read and map, never write'),
    form('allow', sym('file-read*'), ...subpaths([...SYSTEM_CODE, ...SYSTEM_DATA].map(str))),
    form('allow', sym('file-map-executable'), ...subpaths(SYSTEM_CODE.map(str))),
    form('allow', sym('file-read*'), ...SYSTEM_LINKS.map((l) => form('literal', str(l)))),
    // Looking a path up stats each of its parents: allow that, and only that, on the way down.
    form(
      'allow',
      sym('file-read-metadata'),
      sym('file-test-existence'),
      form('literal', str('/')),
      ...[...new Set([...SYSTEM_CODE, ...SYSTEM_DATA].flatMap(ancestorsOf))].map((a) =>
        form('literal', str(a)),
      ),
    ),
    blank,
  ];

  items.push(comment('the workspace, the rootfs and the writable directories: read, write and run'));
  for (const { path: p, role, field } of user.readWrite) {
    const r = refs.ref(p, role, field);
    items.push(form('allow', sym('file-read*'), sym('file-write*'), form('subpath', r)));
    items.push(form('allow', sym('file-map-executable'), form('subpath', r)));
  }
  if (user.readOnly.length > 0) items.push(blank, comment('read-only directories: read and run'));
  for (const p of user.readOnly) {
    const r = refs.ref(p, 'RO', '--ro');
    items.push(form('allow', sym('file-read*'), form('subpath', r)));
    items.push(form('allow', sym('file-map-executable'), form('subpath', r)));
  }
  const parents = [...new Set([...user.readWrite.map((d) => d.path), ...user.readOnly].flatMap(ancestorsOf))];
  if (parents.length > 0) {
    items.push(
      form(
        'allow',
        sym('file-read-metadata'),
        sym('file-test-existence'),
        ...parents.map((a) => form('literal', refs.ref(a, 'PARENT', 'path'))),
      ),
    );
  }
  items.push(blank);

  items.push(...networkSection(policy.network));
  items.push(...gpuSection(policy.gpu, policy.fineGrainedIokit ?? false));
  items.push(...ioSection(), ...ipcSection());

  const text = printProfile(items);
  const params = refs.params.map(([k, v]) => [k, v] as const);
  return { text, params, args: ['-p', text, ...params.flatMap(([k, v]) => ['-D', `${k}=${v}`])] };
}

interface UserDir {
  readonly path: string;
  readonly role: string;
  readonly field: string;
}

function userDirs(policy: SeatbeltPolicy): { readWrite: UserDir[]; readOnly: string[] } {
  const rw: UserDir[] = [
    { path: checkProfilePath(policy.workspace, 'workspace'), role: 'WORKSPACE', field: 'workspace' },
  ];
  if (policy.rootfs !== undefined)
    rw.push({ path: checkProfilePath(policy.rootfs, 'rootfs'), role: 'ROOTFS', field: 'rootfs' });
  for (const p of policy.writable) {
    if (checkProfilePath(p, '--rw') === '/')
      throw new ConfigError('--rw', '--rw: refusing to make the whole file system writable: "/"', {
        value: p,
      });
    rw.push({ path: p, role: 'RW', field: '--rw' });
  }
  const ro = policy.readonly.map((p) => checkProfilePath(p, '--ro'));
  return { readWrite: rw, readOnly: ro };
}

function ioSection(): ProfileItem[] {
  const dev = (p: string) => form('literal', str(p));
  const charDevice = (p: string) => form('require-all', dev(p), form('vnode-type', sym('CHARACTER-DEVICE')));
  return [
    comment('i/o essentials: /dev/null, randomness, inherited descriptors, pseudo-terminals'),
    form('allow', sym('file-read*'), sym('file-write-data'), charDevice('/dev/null')),
    form('allow', sym('file-read*'), dev('/dev/zero'), dev('/dev/random'), dev('/dev/urandom')),
    form('allow', sym('file-read*'), sym('file-write-data'), form('subpath', str('/dev/fd'))),
    form('allow', sym('pseudo-tty')),
    form('allow', sym('file-read*'), sym('file-write*'), sym('file-ioctl'), dev('/dev/ptmx')),
    // Seatbelt cannot tell a pty the sandbox opened from another one by its name.
    form(
      'allow',
      sym('file-read*'),
      sym('file-write*'),
      sym('file-ioctl'),
      form('regex', str('^/dev/ttys[0-9]+$')),
    ),
    blank,
  ];
}

function ipcSection(): ProfileItem[] {
  return [
    comment('ipc: POSIX semaphores and shared memory'),
    form('allow', sym('ipc-posix-sem')),
    form('allow', sym('ipc-posix-shm')),
  ];
}
