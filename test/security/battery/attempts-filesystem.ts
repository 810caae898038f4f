import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { RunResult } from '../../../src/index.js';
import type { HostFixture } from './host-fixture.js';
import type { Attempt, Verdict } from './types.js';
import { PY_SYSCALL, py, sh, verdict } from './types.js';

/** Host paths an attempt tries to create; each must still be absent on the host afterwards. */
const targets = new Map<string, string[]>();
function hostTargets(id: string, host: HostFixture): string[] {
  let t = targets.get(id);
  if (!t) {
    const m = host.marker(id);
    t = ['/etc', '/usr/local/bin', '/var/lib', '/opt', '/tmp'].map((d) => `${d}/${m}`);
    targets.set(id, t);
  }
  return t;
}
function nothingWritten(id: string, r: RunResult, host: HostFixture): Verdict {
  const made = hostTargets(id, host).filter((p) => existsSync(p));
  return verdict(
    r,
    made.length === 0,
    made.length ? `created on the host: ${made.join(', ')}` : 'no host file was created',
  );
}
const BWRAP = ['/usr/bin/bwrap', '/bin/bwrap'].find((p) => existsSync(p)) ?? '/usr/bin/bwrap';
const bwrapHash = () => createHash('sha256').update(readFileSync(BWRAP)).digest('hex');
const bwrapBefore = existsSync(BWRAP) ? bwrapHash() : '';

/** Writing outside the writable paths, mounting, devices and host-wide settings. */
export const FILESYSTEM_ATTEMPTS: Attempt[] = [
  {
    id: 'write-host-directly',
    category: 'writes outside writable paths',
    title: 'create files in /etc, /usr/local/bin, /var/lib, /opt and the host /tmp',
    spec: (host) => ({
      command: sh(
        hostTargets('write-host-directly', host)
          .map((p) => `echo x > ${p}`)
          .join('\n'),
      ),
    }),
    judge: (r, host) => nothingWritten('write-host-directly', r, host),
  },
  {
    id: 'write-via-symlink',
    category: 'writes outside writable paths',
    title: 'write through symlinks in the private /tmp that point at host paths',
    spec: (host) => ({
      command: sh(
        hostTargets('write-via-symlink', host)
          .map((p, i) => `ln -s ${p} /tmp/link${i}; echo x > /tmp/link${i}; cp /bin/true /tmp/link${i}`)
          .join('\n'),
      ),
    }),
    judge: (r, host) => nothingWritten('write-via-symlink', r, host),
  },
  {
    id: 'write-via-dotdot',
    category: 'writes outside writable paths',
    title: 'climb out of the writable /tmp with .. and write into host directories',
    spec: (host) => ({
      workdir: '/tmp',
      command: sh(
        hostTargets('write-via-dotdot', host)
          .map((p) => `echo x > ../..${p}; echo x > ./../../../../..${p}`)
          .join('\n'),
      ),
    }),
    judge: (r, host) => nothingWritten('write-via-dotdot', r, host),
  },
  {
    id: 'write-via-proc-root',
    category: 'writes outside writable paths',
    title: "write through /proc/<pid>/root links into another root (init's, its own)",
    spec: (host) => ({
      command: sh(
        hostTargets('write-via-proc-root', host)
          .map(
            (p) =>
              `echo x > /proc/1/root${p}; echo x > /proc/self/root${p}; echo x > /proc/${host.testPid}/root${p}`,
          )
          .join('\n'),
      ),
    }),
    judge: (r, host) => nothingWritten('write-via-proc-root', r, host),
  },
  {
    id: 'remount-root-rw',
    category: 'writes outside writable paths',
    title: 'remount the read-only host root read-write (mount(8) and raw MS_REMOUNT|MS_BIND), then write',
    spec: (host) => ({
      command: py(
        `${PY_SYSCALL}import subprocess\n` +
          'print("mount(8):", subprocess.run(["mount", "-o", "remount,rw", "/"], capture_output=True, text=True).stderr.strip())\n' +
          `NR = {"x86_64": 165, "aarch64": 40}[os.uname().machine]\n` +
          'print("raw remount:", sc(NR, b"none", b"/", None, 0x20 | 0x1000, None))\n' +
          hostTargets('remount-root-rw', host)
            .map(
              (p) =>
                `\ntry:\n    open(${JSON.stringify(p)}, "w").write("x"); print("WROTE ${p}")\nexcept OSError as e: print("write refused:", e.strerror)`,
            )
            .join(''),
      ),
    }),
    judge: (r, host) => nothingWritten('remount-root-rw', r, host),
  },
  {
    id: 'mount-over-host-dirs',
    category: 'mounting',
    title: 'mount a tmpfs over /etc, bind-mount / somewhere writable, use the new mount API',
    spec: () => ({
      command: py(
        `${PY_SYSCALL}import subprocess\n` +
          'print(subprocess.run(["mount", "-t", "tmpfs", "none", "/etc"], capture_output=True, text=True).stderr.strip())\n' +
          'arch = os.uname().machine\n' +
          'print("mount bind", sc({"x86_64": 165, "aarch64": 40}[arch], b"/", b"/tmp", None, 0x1000, None))\n' +
          'print("fsopen", sc(430, b"tmpfs", 0))\nprint("open_tree clone", sc(428, -100, b"/", 1))\n' +
          'print("passwd still there:", os.path.exists("/etc/passwd"))',
      ),
    }),
    judge: (r) => {
      const out = r.stdout ?? '';
      const refused = (call: string) => new RegExp(`${call} \\(-1, 'EPERM'\\)`).test(out);
      return verdict(
        r,
        refused('mount bind') &&
          refused('fsopen') &&
          refused('open_tree clone') &&
          /passwd still there: True/.test(out),
      );
    },
  },
  {
    id: 'overwrite-bwrap-binary',
    category: 'writes outside writable paths',
    title: "overwrite the sandbox init's own executable through /proc/1/exe (runc CVE-2019-5736 style)",
    spec: () => ({
      command: sh(
        'ls -l /proc/1/exe; echo evil > /proc/1/exe; cp /bin/true /proc/1/exe; echo evil >> /proc/self/exe',
      ),
    }),
    judge: (r) => verdict(r, bwrapHash() === bwrapBefore, `${BWRAP} unchanged`),
  },
  {
    id: 'chroot-escape',
    category: 'writes outside writable paths',
    title: 'break out with the classic chroot-inside-chroot trick',
    spec: () => ({
      command: py(
        'import os\nos.makedirs("/tmp/j", exist_ok=True)\ntry:\n    os.chroot("/tmp/j"); print("CHROOTED")\nexcept OSError as e: print("chroot refused:", e.strerror)',
      ),
    }),
    judge: (r) => verdict(r, !/CHROOTED/.test(r.stdout ?? '')),
  },
  {
    id: 'device-nodes',
    category: 'devices',
    title: 'make block and memory device nodes, or find host disks in /dev',
    spec: () => ({
      command: sh(
        'ls /dev; mknod /tmp/sda b 8 0 && head -c 512 /tmp/sda | od -c | head -2; mknod /tmp/mem c 1 1; ls /dev/sd* /dev/nvme* /dev/vd* /dev/mem 2>&1',
      ),
    }),
    judge: (r) =>
      verdict(
        r,
        !/(^|\s)(sd[a-z]|nvme\d|vd[a-z]|mem|kmsg|loop\d)(\s|$)/m.test(
          (r.stdout ?? '').split('\n').slice(1).join('\n'),
        ) && /Operation not permitted/.test(r.stderr ?? ''),
      ),
  },
  {
    id: 'write-proc-sys-core-pattern',
    category: 'host settings',
    title: "set the host's core_pattern to a pipe, so the kernel would run a program as root on a crash",
    spec: () => ({
      command: sh("echo '|/tmp/pwn %p' > /proc/sys/kernel/core_pattern; cat /proc/sys/kernel/core_pattern"),
    }),
    judge: (r, host) => {
      const file = '/proc/sys/kernel/core_pattern';
      return verdict(
        r,
        host.read(file) === host.setting(file),
        `host core_pattern: ${host.read(file)?.trim()}`,
      );
    },
  },
  {
    id: 'write-proc-sys-vm',
    category: 'host settings',
    title: 'change a host-wide kernel tunable under /proc/sys (vm.swappiness)',
    spec: (host) => {
      const now = Number(host.setting('/proc/sys/vm/swappiness') ?? 60);
      return {
        command: sh(`echo ${now === 1 ? 2 : 1} > /proc/sys/vm/swappiness; sysctl -w vm.swappiness=7`),
      };
    },
    judge: (r, host) =>
      verdict(r, host.read('/proc/sys/vm/swappiness') === host.setting('/proc/sys/vm/swappiness')),
  },
  {
    id: 'write-sys',
    category: 'host settings',
    title: 'change a host setting through /sys (transparent hugepages)',
    spec: () => ({
      command: sh(
        'echo never > /sys/kernel/mm/transparent_hugepage/enabled; echo always > /sys/kernel/mm/transparent_hugepage/enabled',
      ),
    }),
    judge: (r, host) => {
      const file = '/sys/kernel/mm/transparent_hugepage/enabled';
      return verdict(
        r,
        host.read(file) === host.setting(file) && /Read-only file system/.test(r.stderr ?? ''),
      );
    },
  },
  {
    id: 'open-by-handle',
    category: 'writes outside writable paths',
    title: 'open host files by handle, bypassing the mount tree ("shocker")',
    spec: () => ({
      command: py(
        `${PY_SYSCALL}nr = {"x86_64": (303, 304), "aarch64": (264, 265)}[os.uname().machine]\n` +
          'buf = ctypes.create_string_buffer(8 + 128); ctypes.memmove(buf, (128).to_bytes(4, "little"), 4)\nmount_id = ctypes.c_int()\n' +
          'print("name_to_handle_at", sc(nr[0], -100, b"/etc/passwd", buf, ctypes.byref(mount_id), 0))\n' +
          'print("open_by_handle_at", sc(nr[1], -100, buf, 0))',
      ),
    }),
    judge: (r) =>
      verdict(
        r,
        /name_to_handle_at \(-1, 'EPERM'\)/.test(r.stdout ?? '') &&
          /open_by_handle_at \(-1, 'EPERM'\)/.test(r.stdout ?? ''),
      ),
  },
];
