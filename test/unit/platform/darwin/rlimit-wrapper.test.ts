import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { UnsupportedError } from '../../../../src/errors.js';
import {
  SH_PATH,
  STATUS_FD,
  parseWrapperStatus,
  rlimitWrapper,
  type DarwinRlimits,
} from '../../../../src/platform/darwin/rlimit-wrapper.js';

const LIMITS: DarwinRlimits = {
  cpuTimeMs: 10_000,
  nofile: 64,
  fsizeBytes: 2 ** 20,
  addressSpaceBytes: 2 ** 30,
};

// Prints the limits the command inherited, and whether the status descriptor leaked into it.
const PROBE = [
  '/bin/sh',
  '-c',
  'echo $(ulimit -S -n) $(ulimit -H -n) $(ulimit -S -t) $(ulimit -H -t) $(ulimit -S -f) $(ulimit -c) $(ulimit -S -v); ' +
    `if { true >&${STATUS_FD}; } 2>/dev/null; then echo leaked; else echo closed; fi`,
];

/** Runs the wrapper for real (the script is plain POSIX sh) and collects stdout, stderr and fd 3. */
function runWrapper(
  shell: string[],
  args: readonly string[],
  outer = '',
): Promise<{ code: number | null; stdout: string; stderr: string; status: string }> {
  return new Promise((resolve, reject) => {
    // `outer` lowers limits first, as a stricter parent would, to make the wrapper fail.
    const argv = outer
      ? ['-c', `${outer}; exec "$@"`, 'outer', ...shell, ...args]
      : [...shell.slice(1), ...args];
    const p = spawn(outer ? SH_PATH : (shell[0] as string), argv, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let status = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdio[3]?.on('data', (d: Buffer) => (status += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr, status }));
  });
}

const SHELLS: [string, string[]][] = [
  ['dash as /bin/sh', [SH_PATH]],
  ['bash in POSIX mode (macOS /bin/sh)', ['/bin/bash', '--posix']],
];

describe('rlimit wrapper', () => {
  it('passes the command as positional parameters, never inside the script', () => {
    const w = rlimitWrapper(LIMITS, [
      '/usr/bin/sandbox-exec',
      '-p',
      '(version 1)',
      '/bin/echo',
      '$(rm -rf ~)',
    ]);
    assert.equal(w.file, '/bin/sh');
    assert.equal(w.args[0], '-c');
    assert.equal(w.args[2], 'corral-rlimits');
    assert.deepEqual(w.args.slice(3), [
      '/usr/bin/sandbox-exec',
      '-p',
      '(version 1)',
      '/bin/echo',
      '$(rm -rf ~)',
    ]);
    assert.ok(!(w.args[1] as string).includes('rm -rf'));
  });

  it('refuses NPROC with the reason: it counts every process of the user', () => {
    assert.throws(
      () => rlimitWrapper({ nproc: 32 }, ['/bin/true']),
      (err: unknown) => err instanceof UnsupportedError && /every process of the user/.test(err.message),
    );
  });

  it('reports CPU time rounded up to whole seconds and a file size rounded down to 512-byte blocks', () => {
    const r = rlimitWrapper({ cpuTimeMs: 1500, fsizeBytes: 1000 }, ['/bin/true']).reports;
    assert.equal(r.cpuTime?.enforcement, 'kernel');
    assert.match(r.cpuTime?.note ?? '', /rounded up to 2s/);
    assert.match(r.fsize?.note ?? '', /rounded to 512 bytes/);
  });

  for (const [name, shell] of SHELLS) {
    it(`sets soft and hard limits before exec and closes its status descriptor (${name})`, async (t) => {
      if (!existsSync(shell[0] as string)) return t.skip(`${shell[0]} is not installed`);
      const w = rlimitWrapper(LIMITS, PROBE);
      const r = await runWrapper(shell, w.args);
      assert.equal(r.code, 0, r.stderr);
      const [values, fd] = r.stdout.trim().split('\n');
      // nofile 64/64, cpu 10 soft / 11 hard, 1 MiB = 2048 blocks, no core, 1 GiB = 1048576 KiB.
      assert.equal(values, '64 64 10 11 2048 0 1048576');
      assert.equal(fd, 'closed');
      assert.deepEqual(parseWrapperStatus(r.status), { ok: true, addressSpace: 'set' });
    });
  }

  it('reports RLIMIT_AS as refused, and still runs, when the shell cannot set it', async () => {
    const w = rlimitWrapper({ addressSpaceBytes: 2 ** 30 }, ['/bin/echo', 'ran']);
    const r = await runWrapper([SH_PATH], w.args, 'ulimit -S -v 100000; ulimit -H -v 100000');
    assert.equal(r.stdout.trim(), 'ran');
    assert.deepEqual(parseWrapperStatus(r.status), { ok: true, addressSpace: 'refused' });
  });

  it('stops with exit 125 and names the limit when a required one cannot be set', async () => {
    const w = rlimitWrapper({ nofile: 4096 }, ['/bin/echo', 'must not run']);
    const r = await runWrapper([SH_PATH], w.args, 'ulimit -S -n 256; ulimit -H -n 256');
    assert.equal(r.code, 125);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /corral: cannot set RLIMIT_NOFILE/);
    assert.deepEqual(parseWrapperStatus(r.status), { ok: false, failed: 'RLIMIT_NOFILE' });
  });

  it('with hold, runs the command only after corral says go, and not at all if corral goes away', async () => {
    const w = rlimitWrapper({ nofile: 64 }, ['/bin/echo', 'ran'], true);
    const held = (say: string | null) =>
      new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const p = spawn(SH_PATH, w.args.slice(), { stdio: ['ignore', 'pipe', 'ignore', 'pipe', 'pipe'] });
        let stdout = '';
        p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
        p.stdio[3]?.on('data', () => {
          const go = p.stdio[4] as NodeJS.WritableStream;
          // The status line arrived: the limits are set and the command has not started yet.
          assert.equal(stdout, '');
          if (say === null) go.end();
          else go.end(say);
        });
        p.on('error', reject);
        p.on('close', (code) => resolve({ code, stdout }));
      });
    assert.deepEqual(await held('go\n'), { code: 0, stdout: 'ran\n' });
    assert.deepEqual(await held(null), { code: 125, stdout: '' });
    assert.deepEqual(await held('nope\n'), { code: 125, stdout: '' });
  });

  it('reads only the status lines it writes', () => {
    assert.equal(parseWrapperStatus(''), undefined);
    assert.equal(parseWrapperStatus('ok as=maybe'), undefined);
    assert.deepEqual(parseWrapperStatus('ok as=unset\n'), { ok: true, addressSpace: 'unset' });
  });
});
