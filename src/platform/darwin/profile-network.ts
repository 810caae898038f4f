import { ConfigError } from '../../errors.js';
import { blank, comment, form, str, sym, type ProfileItem } from './sbpl.js';
import type { NetworkPolicy } from './profile-types.js';

/** What name resolution and TLS certificate checks need once the network is open. */
const FULL_NETWORK_SERVICES = [
  'com.apple.dnssd.service',
  'com.apple.SystemConfiguration.configd',
  'com.apple.SystemConfiguration.DNSConfiguration',
  'com.apple.trustd.agent',
];

function port(p: number, field: string): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535)
    throw new ConfigError(field, `${field}: not a port (1-65535): ${p}`, { value: p });
  return p;
}

const localhost = (p: number) => str(`localhost:${p}`);

/**
 * `none` writes nothing (deny default covers it). `localhost` opens exactly the listed ports
 * on the loopback: a bind port may be listened on and accept connections, a connect port may
 * be connected to; nothing else, no DNS. `full` opens the network.
 */
export function networkSection(net: NetworkPolicy): ProfileItem[] {
  if (net.mode === 'none') return [comment('network: none'), blank];
  if (net.mode === 'full') {
    return [
      comment('network: full'),
      form('allow', sym('network*')),
      form('allow', sym('system-socket')),
      form('allow', sym('mach-lookup'), ...FULL_NETWORK_SERVICES.map((s) => form('global-name', str(s)))),
      blank,
    ];
  }
  const bind = [...new Set(net.bind.map((p) => port(p, 'macos.localhost.bind')))];
  const connect = [...new Set(net.connect.map((p) => port(p, 'macos.localhost.connect')))];
  const items: ProfileItem[] = [comment('network: localhost ports only')];
  if (bind.length > 0) {
    items.push(
      form('allow', sym('network-bind'), ...bind.map((p) => form('local', sym('ip'), localhost(p)))),
    );
    items.push(
      form('allow', sym('network-inbound'), ...bind.map((p) => form('local', sym('ip'), localhost(p)))),
    );
  }
  if (connect.length > 0) {
    items.push(
      form('allow', sym('network-outbound'), ...connect.map((p) => form('remote', sym('ip'), localhost(p)))),
    );
  }
  items.push(blank);
  return items;
}
