/** What the sandbox may reach on the network. */
export type NetworkPolicy =
  | { readonly mode: 'none' }
  /** Only these localhost ports: `bind` to listen on (and accept on), `connect` to reach. */
  | { readonly mode: 'localhost'; readonly bind: readonly number[]; readonly connect: readonly number[] }
  | { readonly mode: 'full' };

/** `metal`: Metal compute with shader compilation; `mps`: Metal Performance Shaders only. */
export type GpuPolicy = 'none' | 'metal' | 'mps';

/** Everything a Seatbelt profile is generated from. Paths are absolute and canonical (realpath). */
export interface SeatbeltPolicy {
  /** corral's private directory for this run (HOME and TMPDIR): read-write. */
  readonly workspace: string;
  /** A directory tree the command runs from (the spec's rootfs): read-write, executable. */
  readonly rootfs?: string | undefined;
  /** Read-write and executable (the spec's `rw` binds). */
  readonly writable: readonly string[];
  /** Read-only and executable (the spec's `ro` binds). */
  readonly readonly: readonly string[];
  readonly network: NetworkPolicy;
  readonly gpu: GpuPolicy;
  /**
   * Write the iokit-open-service / iokit-open-user-client rules of newer macOS releases (older
   * ones refuse a profile naming them). Only matters with a GPU. Default: false.
   */
  readonly fineGrainedIokit?: boolean;
}
