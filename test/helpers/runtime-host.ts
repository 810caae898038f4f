import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { detectCgroups } from '../../src/platform/linux/cgroup/detect.js';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { hostPidsWith } from './host.js';

/** A real runtime over a fresh data dir, and a census of what a test left on the host. */
export function hostRuntime(prefix = 'corral-rt-it-'): {
  rt: Runtime;
  dataDir: string;
  leftovers(marker?: string): string[];
  cleanup(): Promise<void>;
} {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  // Image containers' roots live under it, and bubblewrap runs as the sandbox uid.
  chmodSync(dataDir, 0o711);
  const rt = openRuntime({ dataDir });
  const names = () => {
    try {
      return readdirSync(path.join(dataDir, 'containers'));
    } catch {
      return [];
    }
  };
  return {
    rt,
    dataDir,
    leftovers: (marker) => {
      const out: string[] = [];
      if (marker) out.push(...hostPidsWith(marker).map((p) => `process ${p}`));
      const cg = detectCgroups().driver;
      const ours = new Set(names());
      for (const c of cg?.list() ?? []) {
        const m = /^ctr-(.+)-[a-z0-9]+$/.exec(c);
        if (m && (ours.has(m[1] as string) || (marker !== undefined && c.includes(marker))))
          out.push(`cgroup ${c}`);
      }
      out.push(...mountsUnder(dataDir).map((m) => `mount ${m}`));
      out.push(...holdersUnder(dataDir).map((h) => `process ${h}`));
      out.push(...names().map((n) => `dir ${n}`));
      return out;
    },
    cleanup: async () => {
      for (const c of rt.list()) await rt.remove(c.name, { force: true }).catch(() => undefined);
      if (mountsUnder(dataDir).length === 0) rmSync(dataDir, { recursive: true, force: true });
      for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** A tiny root filesystem: dash, a few coreutils and the libraries they need. */
export function minimalRootfs(dir: string): string {
  const tools = ['/bin/sh', '/bin/cat', '/bin/sleep', '/bin/ls', '/bin/echo', '/bin/mkdir', '/bin/touch'];
  for (const d of ['bin', 'tmp', 'dev', 'proc', 'etc', 'data'])
    mkdirSync(path.join(dir, d), { recursive: true });
  const libs = new Set<string>();
  for (const t of tools) {
    copyFileSync(t, path.join(dir, 'bin', path.basename(t)));
    execFileSync('chmod', ['755', path.join(dir, 'bin', path.basename(t))]);
    for (const m of execFileSync('ldd', [t], { encoding: 'utf8' }).matchAll(/(\/\S+\.so[.\d]*)/g))
      libs.add(m[1] as string);
  }
  for (const lib of libs) {
    if (!existsSync(lib)) continue;
    mkdirSync(path.join(dir, path.dirname(lib)), { recursive: true });
    copyFileSync(lib, path.join(dir, lib));
  }
  return dir;
}

const temps: string[] = [];

/** A temporary directory, removed by the next hostRuntime cleanup. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Processes (port holders, loggers, sandboxes) with a file under `dir` open: none may outlive rm. */
export function holdersUnder(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target === dir || target.startsWith(`${dir}/`)) {
          out.push(`${pid} holding ${target}`);
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}
