import { hostPidsWith } from '../../helpers/host.js';
import type { HostFixture } from './host-fixture.js';
import type { Attempt, Verdict } from './types.js';
import { PY_SYSCALL, py, sh, verdict } from './types.js';
import type { RunResult } from '../../../src/index.js';

const tags = new Map<string, string>();
const tag = (id: string, host: HostFixture) => {
  if (!tags.has(id)) tags.set(id, host.marker(id));
  return tags.get(id) as string;
};

/** A long-lived program whose command line carries the tag (sleep itself would refuse the extra word). */
const sleeper = (id: string, host: HostFixture) => `sh -c 'sleep 600; : ${tag(id, host)}'`;

/** The attempt's last words: the daemon it started is running inside the sandbox as the run ends. */
const confirm = (id: string, host: HostFixture, start = 'sleep 600') =>
  `\nfor i in 1 2 3 4 5 6 7 8 9 10; do ps -eo args | grep -q '^sh -c ${start}.*: ${tag(id, host)}$' && { echo DAEMON-RUNNING; break; }; sleep 0.1; done`;

/** Nothing carrying the attempt's tag may be alive on the host once the run has returned. */
async function noSurvivors(id: string, r: RunResult, host: HostFixture): Promise<Verdict> {
  if (!(r.stdout ?? '').includes('DAEMON-RUNNING'))
    return {
      outcome: 'did-not-run',
      evidence: `the daemon never ran inside, so this proves nothing: ${r.stdout} ${r.stderr}`,
    };
  await new Promise((resolve) => setTimeout(resolve, 300));
  const left = hostPidsWith(tag(id, host));
  return verdict(
    r,
    left.length === 0,
    left.length
      ? `still running on the host: ${left.join(', ')}`
      : 'it was running at the end; nothing of it is left on the host',
  );
}

/** Reaching host processes, and outliving the run. */
export const PROCESS_ATTEMPTS: Attempt[] = [
  {
    id: 'see-host-pids',
    category: 'host processes',
    title: 'list host processes (a host sleeper carries a known tag)',
    spec: () => ({ command: sh('ps -eo pid,args; echo procs=$(ls -d /proc/[0-9]* | wc -l)') }),
    judge: (r, host) => {
      const count = Number(/procs=(\d+)/.exec(r.stdout ?? '')?.[1] ?? 99);
      return verdict(r, !(r.stdout ?? '').includes(host.sleeperTag) && count < 8, `${count} pids visible`);
    },
  },
  {
    id: 'signal-host-process',
    category: 'host processes',
    title: 'kill a host process by its host pid, and everything with kill -9 -1',
    spec: (host) => ({
      command: sh(`kill -9 ${host.sleeperPid}; kill -9 ${host.testPid}; kill -9 -1; echo after`),
    }),
    judge: (r, host) =>
      verdict(
        r,
        host.sleeperAlive(),
        `host sleeper ${host.sleeperPid} ${host.sleeperAlive() ? 'alive' : 'KILLED'}`,
      ),
  },
  {
    id: 'ptrace-host-process',
    category: 'host processes',
    title: "attach to a host process and to a sibling with ptrace, read another's memory",
    spec: (host) => ({
      command: py(
        `${PY_SYSCALL}nr = {"x86_64": (101, 310), "aarch64": (117, 270)}[os.uname().machine]\n` +
          `print("attach host", sc(nr[0], 16, ${host.sleeperPid}, 0, 0))\n` +
          'child = os.fork()\nif child == 0:\n    import time; time.sleep(5); os._exit(0)\n' +
          'print("attach sibling", sc(nr[0], 16, child, 0, 0))\n' +
          'iov = (ctypes.c_long * 2)(0, 0)\nprint("process_vm_readv", sc(nr[1], child, iov, 1, iov, 1, 0))\nos.kill(child, 9)',
      ),
    }),
    judge: (r) =>
      verdict(
        r,
        /attach host \(-1, '(EPERM|ESRCH)'\)/.test(r.stdout ?? '') &&
          /attach sibling \(-1, 'EPERM'\)/.test(r.stdout ?? '') &&
          /process_vm_readv \(-1, 'EPERM'\)/.test(r.stdout ?? ''),
      ),
  },
  {
    id: 'join-host-namespaces',
    category: 'host processes',
    title: "enter the host's namespaces through /proc/<host pid>/ns",
    spec: (host) => ({
      command: sh(
        `nsenter --target ${host.testPid} --all true && echo ENTERED; nsenter --net=/proc/${host.testPid}/ns/net true && echo ENTERED-NET; nsenter -t 1 -U -m true && echo ENTERED-INIT`,
      ),
    }),
    judge: (r) => verdict(r, !/ENTERED/.test(r.stdout ?? '')),
  },
  {
    id: 'survive-background',
    category: 'surviving the run',
    title: 'leave a background process behind and exit',
    spec: (host) => ({
      command: sh(
        `${sleeper('survive-background', host)} >/dev/null 2>&1 &${confirm('survive-background', host)}`,
      ),
    }),
    judge: (r, host) => noSurvivors('survive-background', r, host),
  },
  {
    id: 'survive-setsid',
    category: 'surviving the run',
    title: 'detach a process into its own session (setsid) and exit',
    spec: (host) => ({
      command: sh(
        `setsid ${sleeper('survive-setsid', host)} </dev/null >/dev/null 2>&1 &${confirm('survive-setsid', host)}`,
      ),
    }),
    judge: (r, host) => noSurvivors('survive-setsid', r, host),
  },
  {
    id: 'survive-double-fork',
    category: 'surviving the run',
    title: 'daemonize properly: double fork, setsid, close descriptors, chdir /',
    spec: (host) => ({
      command: py(
        'import os, sys\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.chdir("/")\n' +
          '        for fd in range(3): os.close(fd)\n' +
          `        os.execvp("sh", ["sh", "-c", "sleep 600; : ${tag('survive-double-fork', host)}"])\n    os._exit(0)\n` +
          `import subprocess\nprint(subprocess.run(["sh", "-c", ${JSON.stringify(confirm('survive-double-fork', host))}], capture_output=True, text=True).stdout)`,
      ),
    }),
    judge: (r, host) => noSurvivors('survive-double-fork', r, host),
  },
  {
    id: 'survive-ignoring-signals',
    category: 'surviving the run',
    title: 'ignore every catchable signal (nohup, trap) and keep running',
    spec: (host) => ({
      command: sh(
        `nohup sh -c 'trap "" HUP INT TERM QUIT USR1 USR2; sleep 600; : ${tag('survive-ignoring-signals', host)}' >/dev/null 2>&1 &` +
          confirm('survive-ignoring-signals', host, 'trap'),
      ),
    }),
    judge: (r, host) => noSurvivors('survive-ignoring-signals', r, host),
  },
  {
    id: 'leave-cgroup',
    category: 'cgroups',
    title: 'move itself out of its cgroup into the hierarchy roots (writing cgroup.procs)',
    spec: () => ({
      limits: { memory: '64Mi' },
      command: sh(
        'for f in /sys/fs/cgroup/*/cgroup.procs /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/unified/cgroup.procs; do echo $$ > $f && echo "MOVED via $f"; done; cat /proc/self/cgroup',
      ),
    }),
    judge: (r) => verdict(r, !/MOVED/.test(r.stdout ?? '')),
  },
  {
    id: 'raise-own-limits',
    category: 'cgroups',
    title: 'lift its own memory limit through the cgroup files, then allocate past it',
    spec: () => ({
      limits: { memory: '64Mi', timeout: '20s' },
      command: py(
        'import glob\nfor f in glob.glob("/sys/fs/cgroup/**/memory.limit_in_bytes", recursive=True) + glob.glob("/sys/fs/cgroup/**/memory.max", recursive=True):\n' +
          '    try:\n        open(f, "w").write("-1" if f.endswith("bytes") else "max"); print("LIFTED", f)\n    except OSError: pass\n' +
          'b = bytearray(256 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\nprint("ALLOCATED 256M")',
      ),
    }),
    judge: (r) =>
      verdict(r, r.reason === 'memory' && !/LIFTED|ALLOCATED/.test(r.stdout ?? ''), `reason ${r.reason}`),
  },
];
