import { firstPositional, programName, toArgv, unwrap, type ArgvLike } from './argv.js';

/** Programs whose purpose is to reach other hosts. */
const NETWORK_PROGRAMS = new Set([
  ...['curl', 'wget', 'wget2', 'aria2c', 'axel', 'http', 'https', 'xh', 'httpie', 'lynx', 'w3m'],
  ...['ssh', 'scp', 'sftp', 'mosh', 'autossh', 'sshpass'],
  ...['nc', 'ncat', 'netcat', 'nc.openbsd', 'nc.traditional', 'socat', 'telnet', 'cryptcat', 'pwncat'],
  ...['ftp', 'tftp', 'lftp', 'ncftp', 'smbclient'],
  ...['nmap', 'masscan', 'zmap', 'ping', 'ping6', 'traceroute', 'tracepath', 'mtr'],
  ...['dig', 'nslookup', 'host', 'drill', 'whois'],
  ...['tor', 'torsocks', 'proxychains', 'proxychains4', 'ngrok', 'cloudflared', 'frpc', 'chisel'],
]);

const OPENSSL_NET = new Set(['s_client', 's_server', 's_time', 'ocsp']);

/**
 * True when the argv runs a network tool: curl, wget, ssh/scp/sftp, nc/ncat/netcat, socat,
 * telnet, ftp, nmap, dig and similar; `rsync` when it talks to a remote host (`host:path`,
 * `rsync://`, `-e ssh`); `openssl s_client`. Plain programs that happen to open sockets
 * (python, node) are not flagged: only the argv is looked at.
 */
export function isNetworkTool(x: ArgvLike): boolean {
  const argv = unwrap(toArgv(x));
  const name = programName(argv[0]);
  if (NETWORK_PROGRAMS.has(name)) return true;
  if (name === 'rsync') return rsyncIsRemote(argv.slice(1));
  if (name === 'openssl') return OPENSSL_NET.has(firstPositional(argv, 1, new Set()).word ?? '');
  return false;
}

function rsyncIsRemote(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '-e' || a.startsWith('--rsh') || a.startsWith('rsync://')) return true;
    if (a.startsWith('-')) continue;
    // `host:path` or `user@host::module`; a local path with a colon starts with / or . instead.
    if (/^[^/.][^/]*:/.test(a)) return true;
  }
  return false;
}
