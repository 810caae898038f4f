import type { Routed } from './sandbox-filter.js';

/** Messages between the proc connector hub (in corral) and its reader process, over IPC. */
export type ToReader =
  | {
      op: 'add';
      id: number;
      label: string;
      initPid: number;
      cgroupName: string | undefined;
      joiners: boolean;
      existing: number[];
    }
  | { op: 'remove'; id: number }
  | { op: 'close' };

export type FromReader =
  | { op: 'ready'; realtime: string | null; capturePid: number; mode: 'single' | 'split' }
  | { op: 'failed'; message: string; code: string | undefined }
  | { op: 'added'; id: number }
  | { op: 'removed'; id: number }
  | { op: 'events'; batch: Routed[] }
  | { op: 'closed' };

export interface ReaderOptions {
  /** Ask for SCHED_FIFO priority 1 for the capture (see ProcConnectorOptions.realtime). */
  readonly realtime: boolean;
  /** SO_RCVBUF for each netlink socket, bytes. */
  readonly receiveBuffer: number;
  /** How long to wait for the kernel's reply to the subscription, ms. */
  readonly subscribeTimeoutMs: number;
}
