import { hostname } from 'node:os';
import type { Attempt } from './types.js';
import { PY_SYSCALL, c, py, sh, verdict } from './types.js';

const all = (out: string | undefined, pattern: RegExp, count: number) =>
  (out ?? '').match(pattern)?.length === count;

/** Regaining privileges and reaching the kernel's riskier interfaces. */
export const KERNEL_ATTEMPTS: Attempt[] = [
  {
    id: 'nested-userns-unshare',
    category: 'privilege',
    title: 'create a nested user namespace to become root in it, then mount',
    spec: () => ({
      command: sh("unshare -Urm sh -c 'echo IN-USERNS uid=$(id -u); mount -t tmpfs x /mnt && echo MOUNTED'"),
    }),
    judge: (r) => verdict(r, !/IN-USERNS|MOUNTED/.test(r.stdout ?? '')),
  },
  {
    id: 'nested-userns-clone',
    category: 'privilege',
    title: 'clone() straight into new user, mount and pid namespaces from C (no util-linux)',
    spec: () => ({
      command: c(`#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
  long flags[] = { CLONE_NEWUSER, CLONE_NEWUSER | CLONE_NEWNS, CLONE_NEWUSER | CLONE_NEWPID, CLONE_NEWNET };
  for (int i = 0; i < 4; i++) {
    long r = syscall(SYS_clone, flags[i] | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) { printf("CHILD-IN-NEW-NAMESPACE\\n"); _exit(0); }
    printf("clone 0x%lx: %s\\n", flags[i], r < 0 ? strerror(errno) : "created");
  }
  long r3 = syscall(435 /* clone3 */, 0, 0);
  printf("clone3: %s\\n", r3 < 0 ? strerror(errno) : "created");
  return 0;
}`),
    }),
    judge: (r) =>
      verdict(r, all(r.stdout, /Operation not permitted/g, 4) && !/created|CHILD-IN/.test(r.stdout ?? '')),
  },
  {
    id: 'x32-abi-bypass',
    category: 'privilege',
    title: 'dodge the filter with x32 system call numbers (unshare and mount with bit 30 set)',
    spec: () => ({
      command:
        process.arch === 'x64'
          ? c(`#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  long u = syscall(0x40000000L | 272, 0x10000000L);
  printf("x32 unshare: %s\\n", u < 0 ? strerror(errno) : "WORKED");
  long m = syscall(0x40000000L | 165, "none", "/tmp", "tmpfs", 0L, 0L);
  printf("x32 mount: %s\\n", m < 0 ? strerror(errno) : "WORKED");
  return 0;
}`)
          : sh('echo "no x32 ABI on this architecture"'),
    }),
    judge: (r) =>
      verdict(
        r,
        !/WORKED/.test(r.stdout ?? '') &&
          (process.arch !== 'x64' || all(r.stdout, /Operation not permitted/g, 2)),
      ),
  },
  {
    id: 'load-kernel-module',
    category: 'kernel',
    title: 'load a kernel module (init_module, finit_module, modprobe)',
    spec: () => ({
      command: py(
        `${PY_SYSCALL}nr = {"x86_64": (175, 313), "aarch64": (105, 273)}[os.uname().machine]\n` +
          'print("init_module", sc(nr[0], b"\\x7fELF", 4, b""))\n' +
          'fd = os.open("/bin/true", os.O_RDONLY)\nprint("finit_module", sc(nr[1], fd, b"", 0))\n' +
          'import subprocess\nprint("modprobe", subprocess.run(["modprobe", "dummy"], capture_output=True).returncode)',
      ),
    }),
    judge: (r) => verdict(r, all(r.stdout, /\(-1, 'EPERM'\)/g, 2) && !/modprobe 0/.test(r.stdout ?? '')),
  },
  {
    id: 'setuid-binaries',
    category: 'privilege',
    title: 'become root through setuid-root programs (su, mount, passwd) and check no_new_privs',
    spec: () => ({
      command: sh(
        "grep NoNewPrivs /proc/self/status\necho | su -c 'echo SU-AS-$(id -u)' root\nmount -t tmpfs x /mnt && echo MOUNT-WORKED\necho | passwd -d root && echo PASSWD-WORKED\nid -u",
      ),
    }),
    judge: (r) =>
      verdict(
        r,
        /NoNewPrivs:\s*1/.test(r.stdout ?? '') &&
          !/SU-AS-|MOUNT-WORKED|PASSWD-WORKED|^0$/m.test(r.stdout ?? ''),
      ),
  },
  {
    id: 'kernel-keyrings',
    category: 'kernel',
    title: "read or add keys in the kernel keyrings (not namespaced: other sandboxes' keys)",
    spec: () => ({
      command: py(
        `${PY_SYSCALL}nr = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]\n` +
          'print("add_key", sc(nr[0], b"user", b"k", b"v", 1, -4))\nprint("keyctl", sc(nr[1], 0, -4, 0))',
      ),
    }),
    judge: (r) => verdict(r, all(r.stdout, /\(-1, 'EPERM'\)/g, 2)),
  },
  {
    id: 'kernel-attack-surface',
    category: 'kernel',
    title: 'open the big kernel attack surfaces: bpf, perf_event_open, userfaultfd, io_uring',
    spec: () => ({
      command: py(
        `${PY_SYSCALL}nr = {"x86_64": (321, 298, 323), "aarch64": (280, 241, 282)}[os.uname().machine]\n` +
          'attr = ctypes.create_string_buffer(128)\n' +
          'print("bpf", sc(nr[0], 0, attr, 128))\nprint("perf", sc(nr[1], attr, 0, -1, -1, 0))\n' +
          'print("userfaultfd", sc(nr[2], 1))\nparams = ctypes.create_string_buffer(120)\nprint("io_uring", sc(425, 4, params))',
      ),
    }),
    judge: (r) => verdict(r, all(r.stdout, /\(-1, 'EPERM'\)/g, 4)),
  },
  {
    id: 'change-host-hostname',
    category: 'host settings',
    title: "change the host's hostname",
    spec: (host) => ({
      command: py(
        `${PY_SYSCALL}import socket, subprocess\n` +
          `subprocess.run(["hostname", ${JSON.stringify(host.marker('hn'))}])\n` +
          'nr = {"x86_64": 170, "aarch64": 161}[os.uname().machine]\nprint("sethostname", sc(nr, b"evil", 4))\nprint("now", socket.gethostname())',
      ),
    }),
    judge: (r, host) => verdict(r, hostname() === host.hostname, `host hostname still ${hostname()}`),
  },
  {
    id: 'change-host-clock',
    category: 'host settings',
    title: "set the host's clock (date -s, clock_settime, settimeofday)",
    spec: () => ({
      command: py(
        `${PY_SYSCALL}import subprocess\nprint("date", subprocess.run(["date", "-s", "@0"], capture_output=True).returncode)\n` +
          'ts = (ctypes.c_long * 2)(0, 0)\nnr = {"x86_64": (227, 164), "aarch64": (112, 170)}[os.uname().machine]\n' +
          'print("clock_settime", sc(nr[0], 0, ts))\nprint("settimeofday", sc(nr[1], ts, None))',
      ),
    }),
    // A set clock shows as the wall clock parting from the monotonic one this process started with.
    judge: (r) => {
      const drift = Math.abs(Date.now() - (performance.timeOrigin + performance.now()));
      return verdict(
        r,
        all(r.stdout, /\(-1, 'EPERM'\)/g, 2) && drift < 60_000,
        `host clock drift ${drift.toFixed(0)} ms`,
      );
    },
  },
  {
    id: 'reboot-kexec-swap',
    category: 'kernel',
    title: 'reboot the host (harmless command), load a kernel, turn swap off',
    spec: () => ({
      command: py(
        `${PY_SYSCALL}nr = {"x86_64": (169, 246, 168), "aarch64": (142, 104, 225)}[os.uname().machine]\n` +
          '# LINUX_REBOOT_CMD_CAD_OFF: only disables ctrl-alt-del, should it ever go through\n' +
          'print("reboot", sc(nr[0], 0xfee1dead, 672274793, 0, None))\nprint("kexec_load", sc(nr[1], 0, 0, None, 0))\nprint("swapoff", sc(nr[2], b"/dev/null"))',
      ),
    }),
    judge: (r) => verdict(r, all(r.stdout, /\(-1, 'EPERM'\)/g, 3)),
  },
  {
    id: 'tiocsti-injection',
    category: 'terminal',
    title: 'push keystrokes into a controlling terminal with TIOCSTI (and paste with TIOCLINUX)',
    spec: () => ({
      command: py(
        'import os, pty, fcntl, termios\nmaster, slave = pty.openpty()\npid = os.fork()\nif pid == 0:\n    os.setsid()\n' +
          '    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)\n    for name, req, arg in (("TIOCSTI", termios.TIOCSTI, b"x"), ("TIOCLINUX", 0x541C, b"\\x03")):\n' +
          '        try:\n            fcntl.ioctl(slave, req, arg); print(name, "INJECTED", flush=True)\n' +
          '        except OSError as e: print(name, "refused:", e.strerror, flush=True)\n    os._exit(0)\nos.waitpid(pid, 0)',
      ),
    }),
    judge: (r) =>
      verdict(r, all(r.stdout, /refused: Operation not permitted/g, 2) && !/INJECTED/.test(r.stdout ?? '')),
  },
];
