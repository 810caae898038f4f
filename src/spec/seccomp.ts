import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { quote } from './quote.js';
import { isKnownSyscall } from '../platform/linux/seccomp/syscall-table.js';

const syscallName = z
  .string()
  .max(64)
  .regex(/^[a-z0-9_]+$/, 'a system call name is lower case letters, digits and _');

/** A seccomp policy file (or inline object): changes to corral's default list, or an allow list. */
export const seccompPolicySchema = z
  .object({
    /**
     * What calls not listed get. `allow` (default): a deny list, `extends` plus `deny` minus
     * `allow`. `deny`: an allow list, only `allow` (and what the sandbox's init needs) may run.
     */
    default: z.enum(['allow', 'deny'], { message: 'default: must be "allow" or "deny"' }).optional(),
    /** The deny list to start from when `default` is `allow`. Default: `default` (corral's list). */
    extends: z.enum(['default', 'none'], { message: 'extends: must be "default" or "none"' }).optional(),
    /** Calls answered with EPERM. */
    deny: z.array(syscallName).max(1024).readonly().optional(),
    /**
     * Calls removed from the deny list, or, with `default: "deny"`, the calls allowed. Allowing
     * `unshare` allows namespaces in every form (clone's namespace flags, nested user namespaces).
     */
    allow: z.array(syscallName).max(1024).readonly().optional(),
  })
  .strict();

export type SeccompPolicyInput = z.input<typeof seccompPolicySchema>;

/** The spec's `seccomp` field: `default`, `none`, a policy file path, or a policy object. */
export const seccompFieldSchema = z.union([
  z
    .string()
    .min(1, 'seccomp: must not be empty')
    .max(4096, 'seccomp: a policy file path is at most 4096 characters')
    .refine((s) => !s.includes('\0'), 'seccomp: contains a NUL byte'),
  seccompPolicySchema,
]);

/** A validated seccomp choice; the Linux backend compiles it. */
export interface ResolvedSeccomp {
  /** `default`: corral's deny list. `none`: nothing filtered. `custom`: from a file or object. */
  readonly mode: 'default' | 'none' | 'custom';
  readonly default: 'allow' | 'deny';
  readonly extends: 'default' | 'none';
  readonly deny: readonly string[];
  readonly allow: readonly string[];
  /** The policy file, when it came from one. */
  readonly source?: string;
}

export const DEFAULT_SECCOMP: ResolvedSeccomp = {
  mode: 'default',
  default: 'allow',
  extends: 'default',
  deny: [],
  allow: [],
};
const NO_SECCOMP: ResolvedSeccomp = { mode: 'none', default: 'allow', extends: 'none', deny: [], allow: [] };

/** Policy files are small; a bigger one is a mistake (or an attack on the parser). */
const MAX_POLICY_BYTES = 1 << 20;

export function resolveSeccomp(input: string | SeccompPolicyInput | undefined, cwd: string): ResolvedSeccomp {
  if (input === undefined || input === 'default') return DEFAULT_SECCOMP;
  if (input === 'none') return NO_SECCOMP;
  if (typeof input !== 'string') return fromPolicy(input, undefined);
  const file = path.resolve(cwd, input);
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    if (st.size > MAX_POLICY_BYTES) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'ENOTFILE'
          ? 'is not a regular file'
          : code === 'EFBIG'
            ? `is larger than ${MAX_POLICY_BYTES} bytes`
            : `cannot be read (${code})`;
    throw new ConfigError(
      'seccomp',
      `seccomp: policy file ${why} (expected default, none or a JSON file): ${quote(input)}`,
      {
        value: input,
        resolved: file,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      'seccomp',
      `seccomp: policy file is not valid JSON (${(err as Error).message}): ${file}`,
      {
        value: input,
      },
    );
  }
  const parsed = seccompPolicySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    const msg =
      issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue?.message;
    throw new ConfigError('seccomp', `seccomp: ${where}${msg} in policy file ${file}`, { value: input });
  }
  return fromPolicy(parsed.data, file);
}

function fromPolicy(
  policy: z.output<typeof seccompPolicySchema>,
  source: string | undefined,
): ResolvedSeccomp {
  const where = source ? ` in policy file ${source}` : '';
  const deny = [...new Set(policy.deny ?? [])];
  const allow = [...new Set(policy.allow ?? [])];
  for (const [list, names] of [
    ['deny', deny],
    ['allow', allow],
  ] as const) {
    const unknown = names.find((n) => !isKnownSyscall(n));
    if (unknown !== undefined)
      throw new ConfigError('seccomp', `seccomp: unknown system call in ${list}${where}: ${quote(unknown)}`, {
        value: unknown,
      });
  }
  const both = deny.find((n) => allow.includes(n));
  if (both !== undefined)
    throw new ConfigError('seccomp', `seccomp: ${quote(both)} is in both deny and allow${where}`, {
      value: both,
    });
  if (allow.includes('clone3') && !allow.includes('unshare'))
    throw new ConfigError(
      'seccomp',
      `seccomp: allowing clone3 would let namespaces be created (a filter cannot read its flags); allow unshare too if that is intended${where}`,
      { value: 'clone3' },
    );
  const def = policy.default ?? 'allow';
  if (def === 'deny' && (deny.length > 0 || policy.extends !== undefined))
    throw new ConfigError(
      'seccomp',
      `seccomp: with default "deny" only an allow list makes sense; remove deny and extends${where}`,
      {
        value: policy,
      },
    );
  return {
    mode: 'custom',
    default: def,
    extends: policy.extends ?? 'default',
    deny,
    allow,
    ...(source !== undefined && { source }),
  };
}
