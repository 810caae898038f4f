// npm run bench:lifecycle — the lifecycle runtime against `corral run` of the same command, in
// the same process, interleaved, so machine load affects both alike. Reports medians and ratios,
// and the host memory a running idle container costs (with no corral process resident).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from '../src/run/spawn.js';
import { openRuntime } from '../src/runtime/runtime.js';

const N = Number(process.env.BENCH_N ?? 40);
const IDLE = Number(process.env.BENCH_IDLE ?? 20);
const COMMAND = ['sh', '-c', 'echo ready; exec sleep 600'];
const LIMITS = { memory: '64Mi', pids: 32, cpus: 1 } as const;

const dataDir = mkdtempSync(path.join(tmpdir(), 'corral-bench-'));
chmodSync(dataDir, 0o711);
const rt = openRuntime({ dataDir });

async function viaRun(): Promise<{ first: number; teardown: number }> {
  const t0 = performance.now();
  const p = spawn(
    { command: COMMAND, limits: LIMITS },
    { stdin: 'ignore', stdout: 'pipe', stderr: 'ignore' },
  );
  const line = new Promise<void>((resolve) => {
    let buf = '';
    p.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve();
    });
  });
  await p.start();
  await line;
  const first = performance.now() - t0;
  const t1 = performance.now();
  p.signal('SIGTERM');
  await p.wait();
  return { first, teardown: performance.now() - t1 };
}

async function viaLifecycle(i: number): Promise<{ first: number; teardown: number }> {
  const name = `bench-${i}`;
  const log = path.join(dataDir, 'containers', name, 'stdout.log');
  const t0 = performance.now();
  await rt.create(name, { command: COMMAND, limits: LIMITS });
  await rt.start(name);
  await firstLine(log);
  const first = performance.now() - t0;
  const t1 = performance.now();
  await rt.stop(name, { grace: 10_000 });
  await rt.remove(name);
  return { first, teardown: performance.now() - t1 };
}

/** Resolves when the file holds a complete line: inotify wakes us, a 1 ms poll backs it up. */
function firstLine(file: string): Promise<void> {
  return new Promise((resolve) => {
    const has = () => {
      try {
        return readFileSync(file, 'utf8').includes('\n');
      } catch {
        return false;
      }
    };
    if (has()) return resolve();
    const w = watch(path.dirname(file), () => has() && done());
    const t = setInterval(() => has() && done(), 1);
    const done = () => {
      w.close();
      clearInterval(t);
      resolve();
    };
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] as number;
};
const fmt = (x: number) => x.toFixed(1).padStart(7);

/** Memory of a process from smaps_rollup, in KiB. */
function mem(pid: number): { rss: number; pss: number; priv: number } {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0);
  return { rss: get('Rss'), pss: get('Pss'), priv: get('Private_Clean') + get('Private_Dirty') };
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    for (const tid of readdirSync(`/proc/${p}/task`)) {
      for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)) {
        out.push(Number(c));
        walk(Number(c));
      }
    }
  };
  walk(pid);
  return out;
}

async function idleMemory(): Promise<void> {
  const names = Array.from({ length: IDLE }, (_, i) => `idle-${i}`);
  // Started by the CLI, which then exits: what stays resident is what a user would have.
  const cli = path.resolve(import.meta.dirname, '../src/cli/main.ts');
  for (const n of names) {
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--',
        cli,
        'run',
        '-d',
        '--name',
        n,
        '--memory',
        '64Mi',
        '--pids',
        '32',
        '--',
        'sleep',
        '600',
      ],
      {
        env: { ...process.env, CORRAL_DATA_DIR: dataDir },
        stdio: 'ignore',
      },
    );
  }
  let rss = 0;
  let pss = 0;
  let priv = 0;
  let processes = 0;
  for (const n of names) {
    const init = rt.inspect(n).initPid as number;
    const main = rt.pid(n) as number;
    // bubblewrap's monitor is the init's parent; the command itself is the user's, not ours.
    const monitor = Number(readFileSync(`/proc/${init}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    for (const pid of [monitor, init, ...descendants(init)].filter((p) => p !== main)) {
      const m = mem(pid);
      rss += m.rss;
      pss += m.pss;
      priv += m.priv;
      processes++;
    }
  }
  const corral = readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) return false;
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(cli);
    } catch {
      return false;
    }
  }).length;
  console.log(`\nrunning idle containers: ${IDLE} (sleep 600, started with corral run -d, which exited)`);
  console.log(`  corral processes resident: ${corral}`);
  console.log(
    `  runtime processes per container: ${(processes / IDLE).toFixed(1)} (bubblewrap's monitor and its pid-1 init)`,
  );
  console.log(
    `  runtime memory per container: RSS ${(rss / IDLE).toFixed(0)} KiB, PSS ${(pss / IDLE).toFixed(0)} KiB, private ${(priv / IDLE).toFixed(0)} KiB`,
  );
  for (const n of names) await rt.remove(n, { force: true });

  // The opt-in per-line timestamps keep one logger per running container: its cost.
  let lrss = 0;
  let lpriv = 0;
  for (const n of names) {
    await rt.create(n, { command: ['sleep', '600'] }, { logTimestamps: true });
    await rt.start(n);
    const state = JSON.parse(readFileSync(path.join(dataDir, 'containers', n, 'state.json'), 'utf8')) as {
      run?: { logger?: { pid: number } };
    };
    const m = mem(state.run?.logger?.pid as number);
    lrss += m.rss;
    lpriv += m.priv;
  }
  console.log(
    `  with --log-timestamps, one perl logger per container: RSS ${(lrss / IDLE).toFixed(0)} KiB, private ${(lpriv / IDLE).toFixed(0)} KiB (measured over ${IDLE})`,
  );
  for (const n of names) await rt.remove(n, { force: true });
}

async function main(): Promise<void> {
  console.log(
    `corral lifecycle benchmark: ${N} rounds of each, interleaved; command: ${JSON.stringify(COMMAND)}, limits ${JSON.stringify(LIMITS)}`,
  );
  // Warm-up: probes, caches and page cache.
  await viaRun();
  await viaLifecycle(-1);
  const run = { first: [] as number[], teardown: [] as number[] };
  const life = { first: [] as number[], teardown: [] as number[] };
  for (let i = 0; i < N; i++) {
    const a = await viaRun();
    const b = await viaLifecycle(i);
    run.first.push(a.first);
    run.teardown.push(a.teardown);
    life.first.push(b.first);
    life.teardown.push(b.teardown);
  }
  console.log('\n                                   median ms   p95 ms');
  console.log(`corral run: start → first line     ${fmt(median(run.first))}  ${fmt(p95(run.first))}`);
  console.log(
    `create + start → first line        ${fmt(median(life.first))}  ${fmt(p95(life.first))}   ratio ${(median(life.first) / median(run.first)).toFixed(2)}x`,
  );
  console.log(`corral run: SIGTERM → result       ${fmt(median(run.teardown))}  ${fmt(p95(run.teardown))}`);
  console.log(
    `stop + rm                          ${fmt(median(life.teardown))}  ${fmt(p95(life.teardown))}   ratio ${(median(life.teardown) / median(run.teardown)).toFixed(2)}x`,
  );
  const total = (x: { first: number[]; teardown: number[] }) =>
    median(x.first.map((f, i) => f + (x.teardown[i] as number)));
  console.log(
    `whole life (ratio)                 ${fmt(total(life))}  vs ${total(run).toFixed(1)}   ratio ${(total(life) / total(run)).toFixed(2)}x`,
  );
  await idleMemory();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dataDir, { recursive: true, force: true }));
