import type { Attempt } from './types.js';
import { py, sh, verdict } from './types.js';

const has = (text: string | undefined, needle: string) => needle !== '' && (text ?? '').includes(needle);
const leaked = (r: { stdout?: string; stderr?: string }, needle: string) =>
  has(r.stdout, needle) || has(r.stderr, needle);

/** Reading what the host keeps secret. */
export const SECRET_ATTEMPTS: Attempt[] = [
  {
    id: 'read-etc-shadow',
    category: 'host secrets',
    title: 'read the host password hashes in /etc/shadow',
    spec: () => ({ command: sh('cat /etc/shadow; head -c 200 /etc/gshadow') }),
    judge: (r, host) =>
      verdict(r, !leaked(r, host.shadowFirstLine), 'the first line of the host file never appeared'),
  },
  {
    id: 'read-root-home',
    category: 'host secrets',
    title: "read a secret file planted in root's home",
    spec: (host) => ({ command: sh(`ls -A /root; cat ${host.rootSecret}; cat /root/.bash_history`) }),
    judge: (r, host) => verdict(r, !leaked(r, host.token)),
  },
  {
    id: 'read-other-home',
    category: 'host secrets',
    title: "read a secret in another user's home directory",
    spec: (host) => ({
      command: sh(`ls -A /home; cat ${host.homeDir}/secret; cat /home/*/.ssh/id_* 2>&1 | head -3`),
    }),
    judge: (r, host) => verdict(r, !leaked(r, host.token) && !has(r.stdout, 'corral-battery')),
  },
  {
    id: 'read-host-environ',
    category: 'host secrets',
    title: "read the host processes' environments (the test process holds a secret in its own)",
    spec: (host) => ({
      command: sh(
        `env; cat /proc/${host.testPid}/environ; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done`,
      ),
    }),
    judge: (r, host) => verdict(r, !leaked(r, host.token)),
  },
  {
    id: 'read-kernel-memory',
    category: 'host secrets',
    title: 'read kernel memory and addresses: /proc/kcore, /dev/mem, /dev/kmem, /proc/kallsyms',
    spec: () => ({
      command: sh(
        'head -c 64 /proc/kcore | od -c | head -2; head -c 64 /dev/mem | od -c | head -2; head -c 1 /dev/kmem\n' +
          'awk \'$1 != "0000000000000000" {n++} END {print "nonzero-kallsyms=" n+0}\' /proc/kallsyms',
      ),
    }),
    judge: (r) => verdict(r, /nonzero-kallsyms=0\b/.test(r.stdout ?? '') && !/ELF/.test(r.stdout ?? '')),
  },
  {
    id: 'read-kernel-log',
    category: 'host secrets',
    title: 'read the host kernel log (addresses, other tenants’ messages)',
    spec: () => ({
      command: py(
        'import os\ntry:\n    print("kmsg:", os.read(os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK), 4096)[:80])\nexcept OSError as e: print("kmsg refused:", e.strerror)\n' +
          'import subprocess\nr = subprocess.run(["dmesg"], capture_output=True, text=True)\nprint("dmesg exit", r.returncode, len(r.stdout), r.stderr.strip()[:80])',
      ),
    }),
    judge: (r) =>
      verdict(r, /kmsg refused/.test(r.stdout ?? '') && /dmesg exit [1-9]\d* 0 /.test(r.stdout ?? '')),
  },
];
