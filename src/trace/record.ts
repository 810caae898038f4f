import { z } from 'zod';
import type { TraceCounts, TraceEvent } from './types.js';

/** First line of a trace file: who recorded it, with which backend. */
export interface TraceStartRecord {
  readonly type: 'start';
  readonly timestamp: string;
  readonly sandbox: string;
  readonly backend: string;
  readonly initPid: number;
}

/** Last line of a complete trace file; followers stop there. */
export interface TraceEndRecord {
  readonly type: 'end';
  readonly timestamp: string;
  readonly sandbox: string;
  readonly counts: TraceCounts;
}

/** One line of a JSONL trace file. */
export type TraceRecord = TraceEvent | TraceStartRecord | TraceEndRecord;

const base = { timestamp: z.string(), sandbox: z.string() };
const proc = { ...base, pid: z.number().int(), ppid: z.number().int().nullable() };

// Trace files come from disk, possibly from another corral version or a crashed writer: they are
// validated once, here, and trusted after.
const recordSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('exec'),
    ...proc,
    command: z.string().nullable(),
    args: z.array(z.string()).nullable(),
    cwd: z.string().nullable(),
    exe: z.string().nullable(),
    argv: z.enum(['full', 'split', 'truncated', 'none']),
    attached: z.literal(true).optional(),
  }),
  z.object({ type: z.literal('fork'), ...proc }),
  z.object({
    type: z.literal('exit'),
    ...proc,
    status: z.number().int().nullable(),
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    coreDumped: z.boolean(),
    command: z.string().nullable(),
  }),
  z.object({ type: z.literal('lost'), ...base, reason: z.string() }),
  z.object({ type: z.literal('start'), ...base, backend: z.string(), initPid: z.number().int() }),
  z.object({
    type: z.literal('end'),
    ...base,
    counts: z.object({
      execs: z.number(),
      execsWithArgv: z.number(),
      forks: z.number(),
      exits: z.number(),
      lost: z.number(),
    }),
  }),
]);

/** Parses one JSONL line; undefined (with the problem) when it is not a trace record. */
export function parseRecord(line: string): { record: TraceRecord } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return { error: `not JSON (${(err as Error).message})` };
  }
  const r = recordSchema.safeParse(json);
  if (!r.success)
    return { error: r.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ') };
  return { record: r.data as TraceRecord };
}
