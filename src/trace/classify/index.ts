import { isGitCommit } from './git-commit.js';
import { isNetworkTool } from './network-tool.js';
import { isPackageInstall } from './package-install.js';
import type { ArgvLike } from './argv.js';

export type ExecTag = 'git-commit' | 'package-install' | 'network';

/** The tags a person watching an agent would want to see on this argv. */
export function classify(x: ArgvLike): ExecTag[] {
  const tags: ExecTag[] = [];
  if (isGitCommit(x)) tags.push('git-commit');
  if (isPackageInstall(x)) tags.push('package-install');
  if (isNetworkTool(x)) tags.push('network');
  return tags;
}
