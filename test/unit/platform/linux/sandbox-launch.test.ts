import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeLauncher, LaunchError, resolveSpec, type LaunchRequest } from '../../../../src/index.js';
import { launchSandbox, type LaunchTools } from '../../../../src/platform/linux/sandbox-launch.js';
import { decodeProgram } from '../../../../src/platform/linux/seccomp/bpf.js';
import { compilePolicy } from '../../../../src/platform/linux/seccomp/compile.js';
import { DEFAULT_POLICY } from '../../../../src/platform/linux/seccomp/default-policy.js';
import { ALLOW_ALL_PROGRAM } from '../../../../src/platform/linux/seccomp/program.js';
import { isBwrap } from '../../../helpers/fake-bwrap.js';
import { fakeCgroupV2 } from '../../../helpers/fake-cgroupfs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'corral-launch-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fakeInit = 80_000_000;

/**
 * A detached start as the container driver makes it: the block FIFO, the status file and the
 * seccomp program file are fds of corral's. The fake bwrap reports `initPid` and records the
 * program it was handed (at launch: corral closes its copy of the fd right after).
 */
async function startDetached(spec: Parameters<typeof resolveSpec>[0], initPid = fakeInit++) {
  const seen: { request?: LaunchRequest; program?: Buffer } = {};
  const launcher = new FakeLauncher((req) => {
    if (!isBwrap(req)) return undefined;
    seen.request = req;
    const at = Number(req.args[req.args.indexOf('--seccomp') + 1]) - 3 - (req.extraPipes ?? 0);
    seen.program = readFileSync(req.extraFds?.[at] as number);
    return async (child) => {
      child.claimPid(initPid);
      child.pipe(3).write(`{"child-pid": ${initPid}}\n`);
      await child.signalled;
      child.exit(137);
    };
  });
  const cg = fakeCgroupV2();
  const tools: LaunchTools = {
    launcher,
    cgroups: { driver: cg.driver, problems: [] },
    bwrapPath: '/usr/bin/bwrap',
    prlimitPath: '/usr/bin/prlimit',
    hostUid: 0,
    hostGid: 0,
    bwrapFeatures: () => Promise.resolve({ version: '0.8.0', disableUserns: true }),
  };
  const block = openSync(path.join(dir, `block-${initPid}`), 'w');
  const status = openSync(path.join(dir, `status-${initPid}`), 'w');
  const seccompFile = path.join(dir, `seccomp-${initPid}.bpf`);
  const inherited = openSync(path.join(dir, `inherited-${initPid}`), 'w');
  try {
    const launched = await launchSandbox(tools, resolveSpec(spec), {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
      dieWithParent: false,
      cgroupName: `ctr-unit-${initPid}`,
      blockFd: block,
      statusFd: status,
      seccompFile,
      filterWaitMs: 200,
    });
    launched.bwrap.kill('SIGKILL');
    await launched.bwrap.exit;
    return { ...seen, inherited, file: seccompFile };
  } finally {
    for (const fd of [block, status, inherited]) closeSync(fd);
    cg.cleanup();
  }
}

const flag = (args: readonly string[], name: string) => args[args.indexOf(name) + 1];

describe('the shared start sequence, for a detached sandbox', () => {
  it('hands bwrap the compiled default program as a file, after the block FIFO and status fds', async () => {
    const { request, program, file, inherited } = await startDetached({ command: ['true'] });
    assert.ok(request);
    const args = request.args;
    assert.equal(request.extraPipes, 1, 'only the info pipe: nothing else needs corral alive');
    assert.equal(request.extraFds?.length, 3);
    assert.equal(flag(args, '--info-fd'), '3');
    assert.equal(flag(args, '--block-fd'), '4');
    assert.equal(flag(args, '--json-status-fd'), '5');
    assert.equal(flag(args, '--seccomp'), '6');
    assert.ok(args.includes('--disable-userns'));
    assert.ok(!args.includes('--die-with-parent'));
    assert.deepEqual(decodeProgram(program as Buffer), compilePolicy(DEFAULT_POLICY));
    assert.deepEqual(readFileSync(file), program);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // Inherited descriptors reach bwrap as /dev/null, which it reads as empty --args and closes.
    assert.ok(request.nullFds?.includes(inherited));
    assert.ok(args.some((a, i) => a === '--args' && args[i + 1] === String(inherited)));
    assert.ok(!request.nullFds?.some((fd) => fd < 7), 'none of the control fds is nulled');
  });

  it('still hands over a program (allow-all) with seccomp none, and no --disable-userns', async () => {
    const { request, program } = await startDetached({ command: ['true'], seccomp: 'none' });
    assert.ok(request?.args.includes('--seccomp'));
    assert.ok(!request?.args.includes('--disable-userns'));
    assert.deepEqual(program, ALLOW_ALL_PROGRAM);
  });

  it('stops a detached sandbox whose init does not show its filter, rather than leave it unfiltered', async () => {
    // This test process stands in for the init: it never gains a filter.
    await assert.rejects(
      startDetached({ command: ['true'] }, process.pid),
      (e: unknown) => e instanceof LaunchError && /system call filter/.test(e.message),
    );
  });
});
