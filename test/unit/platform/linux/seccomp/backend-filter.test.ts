import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeLauncher, LinuxBackend, UnsupportedError, resolveSpec } from '../../../../../src/index.js';
import { decodeProgram } from '../../../../../src/platform/linux/seccomp/bpf.js';
import { compilePolicy } from '../../../../../src/platform/linux/seccomp/compile.js';
import { DEFAULT_POLICY } from '../../../../../src/platform/linux/seccomp/default-policy.js';
import { sandboxFilter } from '../../../../../src/platform/linux/seccomp/sandbox-filter.js';
import { ALLOW_ALL_PROGRAM } from '../../../../../src/platform/linux/seccomp/program.js';
import { fakeBwrap, isBwrap } from '../../../../helpers/fake-bwrap.js';
import { fakeCgroupV2 } from '../../../../helpers/fake-cgroupfs.js';

/** Runs `true` through the backend with a fake bwrap that records what arrives on each pipe. */
async function startWith(
  spec: Parameters<typeof resolveSpec>[0],
  features = { version: '0.8.0', disableUserns: true },
) {
  const events: string[] = [];
  let program = Buffer.alloc(0);
  const launcher = new FakeLauncher((req) => {
    if (!isBwrap(req)) return undefined;
    const inner = fakeBwrap();
    return async (child) => {
      const seccomp = child.pipe(5).readable;
      seccomp.on('data', (d: Buffer) => {
        events.push('seccomp-data');
        program = Buffer.concat([program, d]);
      });
      seccomp.on('end', () => events.push('seccomp-end'));
      child.pipe(4).readable.on('data', () => events.push('released'));
      await inner(child);
    };
  });
  const cg = fakeCgroupV2();
  const backend = new LinuxBackend({
    launcher,
    cgroups: () => ({ driver: cg.driver, problems: [] }),
    bwrapPath: '/usr/bin/bwrap',
    prlimitPath: '/usr/bin/prlimit',
    bwrapFeatures: features,
  });
  try {
    const sandbox = await backend.start(resolveSpec(spec), {
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    sandbox.stdout?.resume();
    sandbox.stderr?.resume();
    await sandbox.exited;
    await sandbox.finish();
    const bwrap = launcher.launches.find(isBwrap);
    assert.ok(bwrap);
    return { args: bwrap.args, request: bwrap, events, program };
  } finally {
    cg.cleanup();
  }
}

describe('the Linux backend with a system call filter', () => {
  it('hands bwrap the compiled default program on fd 5, written only after the release', async () => {
    const { args, request, events, program } = await startWith({ command: ['true'] });
    assert.equal(request.extraPipes, 3);
    const i = args.indexOf('--seccomp');
    assert.ok(i > 0 && i < args.lastIndexOf('--'));
    assert.equal(args[i + 1], '5');
    assert.deepEqual(decodeProgram(program), compilePolicy(DEFAULT_POLICY));
    assert.ok(events.indexOf('released') < events.indexOf('seccomp-data'), events.join(','));
    assert.ok(events.includes('seccomp-end'));
  });

  it('adds --disable-userns when bubblewrap has it, and not when the policy allows namespaces', async () => {
    assert.ok((await startWith({ command: ['true'] })).args.includes('--disable-userns'));
    const old = await startWith({ command: ['true'] }, { version: '0.6.1', disableUserns: false });
    assert.ok(!old.args.includes('--disable-userns'));
    const open = await startWith({ command: ['true'], seccomp: { allow: ['unshare'] } });
    assert.ok(!open.args.includes('--disable-userns'));
  });

  it('still sends a program that allows everything with seccomp none, as the release guard', async () => {
    const { args, program } = await startWith({ command: ['true'], seccomp: 'none' });
    assert.ok(args.includes('--seccomp'));
    assert.ok(!args.includes('--disable-userns'));
    assert.deepEqual(program, ALLOW_ALL_PROGRAM);
    assert.equal(program.length, 8);
  });

  it('refuses to filter on an architecture it has no table for, rather than kill every call', () => {
    const spec = resolveSpec({ command: ['true'] });
    assert.throws(
      () => sandboxFilter(spec.seccomp, 'riscv64'),
      (e: unknown) => e instanceof UnsupportedError && /riscv64/.test(e.message),
    );
    assert.deepEqual(
      sandboxFilter(resolveSpec({ command: ['true'], seccomp: 'none' }).seccomp, 'riscv64'),
      ALLOW_ALL_PROGRAM,
    );
  });
});
