import { UnsupportedError } from '../../../errors.js';
import type { HubSource } from './capture-hub.js';
import { captureFix, openConnectorCapture } from './connector-capture.js';
import { bpfFix, openBpfCapture } from './ebpf/bpf-capture.js';

/** The kernel's proc connector (netlink), read by a real-time perl capture. */
export const CONNECTOR_SOURCE: HubSource = {
  open: (options, flushMs, handlers) =>
    openConnectorCapture({
      receiveBuffer: options.receiveBuffer,
      subscribeTimeoutMs: options.subscribeTimeoutMs,
      flushMs,
      realtime: options.realtime,
      ...handlers,
    }),
  // The capture's own words stay in the details, for a capability report to quote.
  unavailable: (err) =>
    new UnsupportedError(`the proc connector is not available: ${err.message}`, captureFix(err.code), {
      reason: err.message,
    }),
  overflow: 'the kernel dropped process events: the socket buffer was full',
};

/** corral's eBPF programs, their ring buffer read by a perl capture. */
export const EBPF_SOURCE: HubSource = {
  open: (_options, flushMs, handlers) => openBpfCapture({ flushMs, ...handlers }),
  unavailable: (err) =>
    new UnsupportedError(`the eBPF tracer is not available: ${err.message}`, bpfFix(err.code), {
      reason: err.message,
    }),
  overflow: 'the kernel dropped process events: the ring buffer was full',
};
