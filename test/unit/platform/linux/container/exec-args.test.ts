import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildExecArgv, nestedStage } from '../../../../../src/platform/linux/container/exec-args.js';
import { watcherArgs } from '../../../../../src/platform/linux/container/timeout-watcher.js';

const tools = {
  sh: '/bin/sh',
  nsenter: '/usr/bin/nsenter',
  prlimit: '/usr/bin/prlimit',
  setpriv: '/usr/bin/setpriv',
};

describe('exec command line', () => {
  it('joins the cgroup first, then rlimits, no-new-privs, and every namespace as the sandbox uid', () => {
    const { file, args } = buildExecArgv({
      tools,
      cgroupProcs: ['/cg/memory/x/cgroup.procs', '/cg/pids/x/cgroup.procs'],
      rlimits: ['--core=0:0', '--nofile=64:64'],
      initPid: 4242,
      joinUserns: true,
      uid: 2_000_000_000,
      gid: 2_000_000_000,
      workdir: '/work dir',
      command: ['sh', '-c', 'echo "$1"', '-x'],
    });
    assert.equal(file, '/bin/sh');
    assert.equal(args[0], '-c');
    assert.deepEqual(args.slice(2), [
      'corral-exec',
      '2',
      '/cg/memory/x/cgroup.procs',
      '/cg/pids/x/cgroup.procs',
      '/usr/bin/prlimit',
      '--core=0:0',
      '--nofile=64:64',
      '--',
      '/usr/bin/setpriv',
      '--no-new-privs',
      '--',
      '/usr/bin/nsenter',
      '--target',
      '4242',
      '--user',
      '--mount',
      '--pid',
      '--net',
      '--ipc',
      '--uts',
      '--cgroup',
      '--root',
      '--setuid',
      '2000000000',
      '--setgid',
      '2000000000',
      '--wdns=/work dir',
      '--',
      'sh',
      '-c',
      'echo "$1"',
      '-x',
    ]);
  });

  it('leaves the user namespace to a nested bubblewrap when one loads a filter', () => {
    const { args } = buildExecArgv({
      tools,
      cgroupProcs: [],
      rlimits: [],
      initPid: 4242,
      joinUserns: false,
      uid: 2_000_000_000,
      gid: 2_000_000_000,
      workdir: '/',
      command: ['/usr/bin/bwrap', '--unshare-user', '--', 'true'],
    });
    const nsenter = args.slice(args.indexOf('/usr/bin/nsenter'), args.indexOf('--wdns=/'));
    assert.ok(!nsenter.includes('--user'), nsenter.join(' '));
    for (const ns of ['--mount', '--pid', '--net', '--ipc', '--uts', '--cgroup', '--root'])
      assert.ok(nsenter.includes(ns), ns);
    assert.deepEqual(nsenter.slice(nsenter.indexOf('--setuid'), nsenter.indexOf('--setuid') + 2), [
      '--setuid',
      '2000000000',
    ]);
  });

  it('loads every seccomp program through a nested bubblewrap that drops every capability', () => {
    const stage = nestedStage({
      bwrap: '/usr/bin/bwrap',
      workdir: '/srv',
      programFds: [3, 4],
      closeFds: [9, 12],
      disableUserns: true,
    });
    assert.deepEqual(stage.slice(-5), ['--add-seccomp-fd', '3', '--add-seccomp-fd', '4', '--']);
    assert.deepEqual(stage.slice(0, 5), ['/usr/bin/bwrap', '--args', '9', '--args', '12']);
    assert.ok(stage.includes('--unshare-user'));
    assert.ok(stage.includes('--disable-userns'));
    assert.ok(!stage.includes('--seccomp'), 'one --seccomp cannot be stacked with another');
    assert.deepEqual(stage.slice(stage.indexOf('--cap-drop'), stage.indexOf('--cap-drop') + 2), [
      '--cap-drop',
      'ALL',
    ]);
    assert.deepEqual(stage.slice(stage.indexOf('--chdir'), stage.indexOf('--chdir') + 2), [
      '--chdir',
      '/srv',
    ]);
  });
});

describe('timeout watcher command line', () => {
  it('passes the timeout in seconds and the init identity as separate arguments', () => {
    const args = watcherArgs(1500, { pid: 77, start: '123456' }, 'run1', '/data/c/timed-out');
    assert.deepEqual(args.slice(2), ['corral-timeout', '1.500', '77', '123456', 'run1', '/data/c/timed-out']);
  });
});
