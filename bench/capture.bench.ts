/**
 * `npm run bench:capture`: the captures alone, without the rest of corral, each against no
 * capture in the same run. The proc connector's capture (capture-script.ts) is set against a
 * floor: a minimal reader that does only what cannot wait (block on an exec-only socket, read
 * each exec's argv, exe and cwd at once, hold the lines until the end). A capture that reports
 * what corral reports, read in real time, cannot cost less than the floor, so the gap between
 * the two is what work on that capture can still win; the floor's own cost is one real-time
 * wake-up and three /proc reads per exec, the price of that design. The eBPF capture
 * (ebpf/capture-script.ts) pays neither: its programs copy the same at the exec, in the kernel,
 * and the capture reads them ten times a second. Each burst runs in a bare bwrap sandbox; the
 * proc connector readers at SCHED_FIFO 1 as corral runs them. Root and Linux >= 6.6
 * (exec-only subscription).
 *
 * Environment: BENCH_EXECS (default 1000), BENCH_REPS (default 10).
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { descendantsOf } from '../src/platform/linux/proc-tree.js';
import { CAPTURE_SCRIPT } from '../src/platform/linux/trace/capture-script.js';
import { bpfCaptureArgs } from '../src/platform/linux/trace/ebpf/bpf-capture.js';
import { BPF_CAPTURE_SCRIPT } from '../src/platform/linux/trace/ebpf/capture-script.js';
import { parseCaptureLine } from '../src/platform/linux/trace/capture-line.js';
import { intervalText, median } from './stats.js';

const EXECS = Number(process.env.BENCH_EXECS ?? 1000);
const REPS = Number(process.env.BENCH_REPS ?? 10);

// The burst waits for a line on stdin: tracing is set up before its first exec.
const SCRIPT = `read x; s=$(date +%s%N); for i in $(seq ${EXECS}); do /bin/true a$i; done; e=$(date +%s%N); echo $(( (e - s) / 1000 ))`;
const BWRAP = ['--unshare-pid', '--unshare-net', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev'];

// The floor. Its subscription (op LISTEN, events EXEC) is not checked: its argv count shows it worked.
const FLOOR_SCRIPT = String.raw`use strict; use warnings; use Socket qw(SOCK_DGRAM SOL_SOCKET); use POSIX ();
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
socket(my $s, 16, SOCK_DGRAM, 11) or die "socket: $!";
setsockopt($s, SOL_SOCKET, 33, pack('i', 8 << 20));
bind($s, pack('S x2 L L', 16, 0, 1)) or die "bind: $!";
my $cn = pack('L L L L S S', 1, 1, 0, 1, 8, 0) . pack('L L', 1, 2);
send($s, pack('L S S L L', 16 + length($cn), 3, 0, 0, 0) . $cn, 0, pack('S x2 L L', 16, 0, 0)) or die "send: $!";
setsockopt($s, SOL_SOCKET, 20, pack('q q', 0, 100000)); # SO_RCVTIMEO: look at stdin when idle
sub raw { my $fd = POSIX::open($_[0], 0) // return ''; my $d = ''; POSIX::read($fd, $d, 65536); POSIX::close($fd); $d }
$| = 1; print "R\n";
fcntl(STDIN, F_SETFL, fcntl(STDIN, F_GETFL, 0) | O_NONBLOCK);
my $out = '';
while (1) {
  if (defined recv($s, my $buf, 65536, 0)) {
    my ($what, $tgid) = unpack('x36 L x16 L', $buf);
    next unless $what == 2;
    $out .= join(' ', 'E', unpack('H*', raw("/proc/$tgid/cmdline")), unpack('H*', readlink("/proc/$tgid/exe") // ''),
      unpack('H*', readlink("/proc/$tgid/cwd") // '')) . "\n";
    next;
  }
  my $got = sysread(STDIN, my $chunk, 4096);
  if (defined $got) { last if $got == 0; print "D\n" }
}
print $out;
`;

interface Arm {
  readonly name: string;
  readonly script?: string;
  readonly args?: string[];
  /** At SCHED_FIFO 1, as corral runs a proc connector capture. */
  readonly realtime?: boolean;
}
const ARMS: Arm[] = [
  { name: 'none' },
  { name: 'floor', script: FLOOR_SCRIPT, realtime: true },
  // The arguments corral gives it: 8 MiB buffers, flush every 100 ms, 1 s to subscribe, split.
  { name: 'capture', script: CAPTURE_SCRIPT, args: [String(8 << 20), '100', '1000', '1'], realtime: true },
  // corral's eBPF programs and their capture, reading the ring every 100 ms at normal priority.
  { name: 'ebpf', script: BPF_CAPTURE_SCRIPT, args: bpfCaptureArgs(100) },
];

interface Sample {
  readonly burstMs: number;
  readonly exact?: number;
  readonly cpuMs?: number;
}

/** Time a process spent on a CPU, ms (first field of /proc/PID/schedstat, in ns). */
function cpuMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

/** Lines of a child's stdout, and a wait for the next line of a kind (its first word). */
function lines(child: { stdout: Readable }) {
  const all: string[] = [];
  const waiters: { kind: string; resolve: () => void }[] = [];
  let rest = '';
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) {
      all.push(l);
      const w = waiters[0];
      if (w && l.split(' ')[0] === w.kind) {
        waiters.shift();
        w.resolve();
      }
    }
  });
  const until = (kind: string) => new Promise<void>((resolve) => waiters.push({ kind, resolve }));
  return { all, until };
}

const ARGV = /^\/bin\/true\0a(\d+)\0$/;

async function once(arm: Arm): Promise<Sample> {
  const command = ['-e', arm.script ?? '', '--', ...(arm.args ?? [])];
  const tracer = arm.script
    ? spawn(arm.realtime ? 'chrt' : 'perl', arm.realtime ? ['-f', '1', 'perl', ...command] : command, {
        stdio: ['pipe', 'pipe', 'inherit'],
      })
    : undefined;
  const out = tracer ? lines(tracer) : undefined;
  const tracerExit = tracer ? new Promise((r) => tracer.once('close', r)) : undefined;
  if (tracer && out) {
    let subscribed = false;
    await Promise.race([
      out.until('R').then(() => (subscribed = true)),
      tracerExit?.then(() => {
        if (!subscribed) throw new Error(`${arm.name} ended before it subscribed`);
      }),
    ]);
  }
  const cpuBefore = tracer ? cpuMs(tracer.pid as number) : 0;
  const sandbox = spawn('bwrap', [...BWRAP, 'sh', '-c', SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  sandbox.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise((r) => sandbox.once('close', r));
  if (tracer && out && arm.name !== 'floor') {
    // bwrap's init and the shell: the capture follows these and what they fork.
    let pids: number[] = [];
    for (let i = 0; i < 2000 && pids.length < 2; i++) {
      pids = descendantsOf(sandbox.pid as number);
      if (pids.length < 2) await new Promise((r) => setTimeout(r, 1));
    }
    tracer.stdin.write(pids.map((p) => `T ${p}\n`).join('') + 'D\n');
    await out.until('D');
  }
  sandbox.stdin.end('\n');
  await done;
  const burstMs = Number(stdout.trim()) / 1000;
  if (!Number.isFinite(burstMs)) throw new Error(`the burst printed no time: ${JSON.stringify(stdout)}`);
  if (!tracer || !out) return { burstMs };
  tracer.stdin.write('D\n');
  await out.until('D');
  const cpu = cpuMs(tracer.pid as number) - cpuBefore;
  tracer.stdin.end();
  await tracerExit;
  let exact = 0;
  for (const l of out.all) {
    let argv: string | undefined;
    if (arm.name === 'floor') {
      if (l.startsWith('E ')) argv = Buffer.from(l.split(' ')[1] ?? '', 'hex').toString('latin1');
    } else {
      const p = parseCaptureLine(l);
      const info = p?.kind === 'event' && p.event.kind === 'exec' ? p.event.info : undefined;
      if (info?.args) argv = [info.command, ...info.args].map((a) => `${a}\0`).join('');
    }
    if (argv && ARGV.test(argv)) exact++;
  }
  return { burstMs, exact, cpuMs: cpu };
}

console.log(
  `bench:capture: ${EXECS} execs of /bin/true per burst in bare bwrap, ${REPS} repetitions, arms interleaved`,
);
const results = new Map<string, Sample[]>(ARMS.map((a) => [a.name, []]));
for (const arm of ARMS) await once(arm); // warm-up
for (let i = 0; i < REPS; i++) {
  // Rotate the order, so drift in host load hits every arm alike.
  for (let j = 0; j < ARMS.length; j++) {
    const arm = ARMS[(i + j) % ARMS.length] as Arm;
    results.get(arm.name)?.push(await once(arm));
  }
}
const base = results.get('none') as Sample[];
for (const arm of ARMS) {
  const rs = results.get(arm.name) as Sample[];
  const burst = `burst median ${median(rs.map((r) => r.burstMs)).toFixed(1)} ms`;
  if (arm.name === 'none') {
    console.log(`${arm.name.padEnd(8)} ${burst}`);
    continue;
  }
  const ratios = rs.map((r, i) => r.burstMs / (base[i] as Sample).burstMs);
  const exact = rs.reduce((a, r) => a + (r.exact ?? 0), 0);
  const cpu = median(rs.map((r) => r.cpuMs ?? 0));
  console.log(
    `${arm.name.padEnd(8)} ${burst}, median of paired ratios ${median(ratios).toFixed(3)}x${intervalText(ratios)}, exact argv ${exact}/${EXECS * REPS}, CPU ${((1000 * cpu) / EXECS).toFixed(0)} µs per exec`,
  );
}
