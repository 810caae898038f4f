import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { MacosSpec } from '../../spec/schema.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** Flags only the macOS backend applies (other platforms accept and ignore them). */
export function addMacosOptions(cmd: Command): Command {
  return cmd
    .option(
      '--listen-port <port>',
      'macOS, with --net none: a localhost port the sandbox may listen on (repeatable, or comma-separated)',
      collect,
      [],
    )
    .option(
      '--connect-port <port>',
      'macOS, with --net none: a localhost port the sandbox may connect to (repeatable, or comma-separated)',
      collect,
      [],
    )
    .option('--gpu <mode>', 'macOS: GPU access, none (default), metal or mps')
    .option('--address-space <size>', 'macOS: RLIMIT_AS per process, best-effort, e.g. 8Gi');
}

interface RawMacosOptions {
  listenPort?: string[];
  connectPort?: string[];
  gpu?: string;
  addressSpace?: string;
}

function ports(values: readonly string[], flag: string): number[] {
  return values
    .flatMap((v) => v.split(','))
    .map((p) => {
      const t = p.trim();
      if (!/^\d{1,5}$/.test(t))
        throw new ConfigError(flag, `${flag}: not a port number (1-65535): ${JSON.stringify(p)}`, {
          value: p,
        });
      return Number(t);
    });
}

/** The `macos` part of the spec from the flags, or nothing when none was given. */
export function macosFromOptions(raw: Record<string, unknown>): { macos?: MacosSpec } {
  const o = raw as RawMacosOptions;
  const bind = ports(o.listenPort ?? [], '--listen-port');
  const connect = ports(o.connectPort ?? [], '--connect-port');
  const macos: MacosSpec = {
    ...((bind.length > 0 || connect.length > 0) && {
      localhost: { ...(bind.length > 0 && { bind }), ...(connect.length > 0 && { connect }) },
    }),
    ...(o.gpu !== undefined && { gpu: o.gpu as 'none' }),
    ...(o.addressSpace !== undefined && { addressSpace: o.addressSpace }),
  };
  return Object.keys(macos).length > 0 ? { macos } : {};
}
