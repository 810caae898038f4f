export { run, type RunOptions } from './run/run.js';
export { spawn } from './run/spawn.js';
export { SandboxProcess, type SpawnOptions, type ProcessState } from './run/sandbox-process.js';
export type { RunResult, RunReason } from './run/result.js';
export type {
  LimitReport,
  NotEnforced,
  SandboxBackend,
  SandboxStats,
  RunningSandbox,
  BackendStartOptions,
  SandboxExit,
  SandboxUsage,
  ReadySandbox,
} from './run/backend.js';
export { capabilities } from './capabilities/capabilities.js';
export type { Capability, CapabilityReport, CapabilityStatus } from './capabilities/types.js';
export { resolveSpec, type ResolveOptions } from './spec/resolve.js';
export type { SandboxSpec, SandboxLimits } from './spec/schema.js';
export type { ResolvedSpec, ResolvedLimits, Bind, NetworkMode, LimitName } from './spec/types.js';
export { parseSize, parseDuration, parseCpus, formatBytes, formatDuration } from './spec/units.js';
export type {
  ProcessLauncher,
  LaunchRequest,
  LaunchedProcess,
  LaunchExit,
  StdioMode,
} from './process/types.js';
export { OsLauncher } from './process/os-launcher.js';
export { FakeLauncher, type FakeChild, type FakeBehaviour } from './process/fake-launcher.js';
export { defaultBackend } from './platform/index.js';
export { LinuxBackend, type LinuxBackendOptions } from './platform/linux/linux-backend.js';
export {
  CorralError,
  ConfigError,
  UnsupportedError,
  LaunchError,
  CommandNotFoundError,
  CommandNotExecutableError,
  StateError,
  isCorralError,
  type ErrorCode,
} from './errors.js';
export { UserspaceLimiter, type UserspaceLimiterOptions } from './limits/userspace-limiter.js';
export type {
  ResourceLimiter,
  ResourceHandle,
  ResourceConfig,
  ResourceStats,
  KillEvent,
  LimitKind,
  TreeSampler,
  ProcessSample,
  Signaller,
  Clock,
} from './limits/types.js';
export { ProcSampler } from './platform/linux/proc-sampler.js';
export { PsSampler } from './platform/darwin/ps-sampler.js';
export { DarwinBackend, type DarwinBackendOptions } from './platform/darwin/darwin-backend.js';
export { generateProfile, type GeneratedProfile, type GenerateOptions } from './platform/darwin/profile.js';
export type { SeatbeltPolicy, NetworkPolicy, GpuPolicy } from './platform/darwin/profile-types.js';
export type { PathStyle } from './platform/darwin/profile-paths.js';
export type { MacosSpec } from './spec/schema.js';
export type { MacosOptions } from './spec/types.js';
// --- exec tracing
export type {
  ArgvCapture,
  ExecEvent,
  ForkEvent,
  ExitEvent,
  LostEvent,
  TraceEvent,
  TraceTarget,
  TraceCounts,
  TraceListener,
  Tracer,
} from './trace/types.js';
export type { TracerBackend, TracerOptions, ProbeResult } from './trace/backend.js';
export {
  createTracer,
  selectTracer,
  tracerCapabilities,
  type SelectTracerOptions,
  type TracerChoice,
} from './trace/factory.js';
export { TracerCore, sandboxLabel } from './trace/tracer-core.js';
export { StubTracer } from './trace/stub-tracer.js';
export { TraceRecorder, type TraceRecorderOptions } from './trace/recorder.js';
export { TraceWriter, type TraceWriterOptions } from './trace/jsonl-writer.js';
export { readTrace, type ReadTraceOptions } from './trace/jsonl-reader.js';
export { parseRecord, type TraceRecord, type TraceStartRecord, type TraceEndRecord } from './trace/record.js';
export { formatRecord, shellQuote, type FormatOptions } from './trace/format.js';
export { summarize, formatSummary, TraceSummarizer, type TraceSummary } from './trace/summary.js';
export { showTrace, type ShowTraceOptions } from './trace/show.js';
export { decodeWaitStatus, type DecodedStatus } from './trace/wait-status.js';
export { isGitCommit, gitSubcommand } from './trace/classify/git-commit.js';
export { isPackageInstall } from './trace/classify/package-install.js';
export { isNetworkTool } from './trace/classify/network-tool.js';
export { classify, type ExecTag } from './trace/classify/index.js';
export { toArgv, unwrap, type ArgvLike } from './trace/classify/argv.js';
export {
  startRecorderProcess,
  type RecorderProcess,
  type RecorderProcessOptions,
} from './trace/recorder-process.js';
export { prepareRunTrace, type RunTrace, type RunTraceOptions } from './run/run-trace.js';
export {
  ProcConnectorTracer,
  type ProcConnectorOptions,
} from './platform/linux/trace/proc-connector-tracer.js';
export { EbpfTracer } from './platform/linux/trace/ebpf-tracer.js';
export { ProcPollTracer, type ProcPollOptions } from './platform/linux/trace/proc-poll-tracer.js';
export { PsPollTracer, type PsPollOptions } from './platform/darwin/trace/ps-poll-tracer.js';
// Lifecycle runtime (containers).
export { openRuntime, Runtime, type RuntimeOptions } from './runtime/runtime.js';
export {
  CreatedContainer,
  RunningContainer,
  ExitedContainer,
  type ContainerHandle,
} from './runtime/handles.js';
export type {
  ContainerStatus,
  ContainerState,
  ContainerOutcome,
  ContainerInfo,
  ContainerStats,
  ExitReason,
  RootfsRecord,
  ProcRef,
  ContainerTraceConfig,
  ContainerTraceInfo,
  RecorderRecord,
} from './runtime/types.js';
export type { ContainerTraceOptions } from './runtime/trace.js';
export type { CreateOptions } from './runtime/ops/create.js';
export type { StopOptions } from './runtime/ops/stop.js';
export type { RemoveOptions } from './runtime/ops/remove.js';
export type { ExecOptions, ExecResult } from './runtime/ops/exec.js';
export type { LogLine, LogsOptions } from './runtime/logs.js';
export type { StatsOptions } from './runtime/stats.js';
export type { ImageInfo } from './runtime/images.js';
export type { ContainerDriver } from './runtime/driver.js';
export { FakeContainerDriver, type FakeDriverOptions, type FakeProgram } from './runtime/fake-driver.js';
export { LinuxContainerDriver } from './platform/linux/container/linux-driver.js';
export { defaultDataDir } from './runtime/data-dir.js';
export { NoSuchContainerError, ExistsError } from './errors.js';
export type { SeccompPolicyInput, ResolvedSeccomp } from './spec/seccomp.js';
export type { FilterPolicy, SyscallRule, ArgTest, SeccompAction } from './platform/linux/seccomp/policy.js';
export { compilePolicy } from './platform/linux/seccomp/compile.js';
export { DEFAULT_POLICY } from './platform/linux/seccomp/default-policy.js';
export { syscallNumber, isKnownSyscall, type SeccompArch } from './platform/linux/seccomp/syscall-table.js';
