import type { Attempt } from './types.js';
import { py, sh, verdict } from './types.js';

const tryConnect = (family: string, address: string) =>
  `try:\n    s = socket.socket(${family}, socket.SOCK_STREAM); s.settimeout(3); s.connect(${address}); print("CONNECTED", s.recv(100))\n` +
  'except OSError as e: print("connect refused:", e.strerror or e)\n';

/** Reaching anything on the network, the host's loopback included. */
export const NETWORK_ATTEMPTS: Attempt[] = [
  {
    id: 'host-loopback-tcp',
    category: 'network',
    title: 'connect to a server listening on the host loopback (127.0.0.1)',
    spec: (host) => ({
      command: py(
        `import socket\n${tryConnect('socket.AF_INET', `("127.0.0.1", ${host.tcpPort})`)}${tryConnect('socket.AF_INET6', `("::1", ${host.tcpPort})`)}`,
      ),
    }),
    judge: (r, host) =>
      verdict(
        r,
        host.tcpHits === 0 && !/CONNECTED/.test(r.stdout ?? ''),
        `host server saw ${host.tcpHits} connections`,
      ),
  },
  {
    id: 'host-abstract-socket',
    category: 'network',
    title: 'connect to a host service on an abstract unix socket (how X11 and some daemons listen)',
    spec: (host) => ({
      command: py(`import socket\n${tryConnect('socket.AF_UNIX', JSON.stringify(`\0${host.abstractName}`))}`),
    }),
    judge: (r, host) =>
      verdict(
        r,
        host.abstractHits === 0 && !/CONNECTED/.test(r.stdout ?? ''),
        `host server saw ${host.abstractHits} connections`,
      ),
  },
  {
    id: 'raw-sockets',
    category: 'network',
    title: 'open raw IP and packet sockets (sniffing, spoofing)',
    spec: () => ({
      command: py(
        'import socket\nfor name, args in (("raw icmp", (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)), ("packet", (socket.AF_PACKET, socket.SOCK_RAW, 0x0300))):\n' +
          '    try:\n        socket.socket(*args); print(name, "OPENED")\n    except OSError as e: print(name, "refused:", e.strerror)',
      ),
    }),
    judge: (r) => verdict(r, !/OPENED/.test(r.stdout ?? '') && /raw icmp refused/.test(r.stdout ?? '')),
  },
  {
    id: 'outside-network',
    category: 'network',
    title: 'reach the outside world (DNS server, default route)',
    spec: () => ({
      command: py(
        `import socket\n${tryConnect('socket.AF_INET', '("1.1.1.1", 53)')}print(open("/proc/net/route").read())`,
      ),
    }),
    judge: (r) =>
      verdict(r, /Network is unreachable/.test(r.stdout ?? '') && !/CONNECTED/.test(r.stdout ?? '')),
  },
  {
    id: 'host-daemon-sockets',
    category: 'network',
    title: 'find host daemon sockets (docker, containerd, dbus, systemd) under /run and /var/run',
    spec: () => ({
      command: sh('find /run /var/run /tmp -type s 2>/dev/null | sed "s/^/SOCKET /"; ls -A /run | wc -l'),
    }),
    judge: (r) => verdict(r, !/SOCKET /.test(r.stdout ?? '')),
  },
];
