import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gitSubcommand, isGitCommit } from '../../../../src/trace/classify/git-commit.js';

const sh = (s: string) => s.split(' ');

describe('isGitCommit', () => {
  it('recognises commits with global options before the subcommand', () => {
    for (const argv of [
      sh('git commit -m x'),
      sh('git -C repo commit -m x'),
      sh('/usr/bin/git -c user.name=bot -c user.email=b@x commit -am msg'),
      sh('git --git-dir=.git --work-tree . commit --amend --no-edit'),
      sh('git --git-dir .git --no-pager -P commit'),
      sh('git --namespace ns --config-env=a.b=ENV commit -m y'),
      sh('git commit-tree 4b825dc -m empty'),
      sh('env GIT_AUTHOR_NAME=x git commit -m y'),
      sh('sudo -u dev git -C /srv commit -m y'),
      ['git', 'commit', '-m', 'a message with spaces'],
    ])
      assert.equal(isGitCommit(argv), true, argv.join(' '));
  });

  it('does not mistake other git commands, option values or dry runs for commits', () => {
    for (const argv of [
      sh('git log'),
      sh('git log --grep commit'),
      sh('git -C commit status'),
      sh('git -c commit=1 log'),
      sh('git show commit'),
      sh('git commit --dry-run -m x'),
      sh('git'),
      sh('gitk commit'),
      sh('echo git commit'),
      [],
    ])
      assert.equal(isGitCommit(argv), false, argv.join(' '));
  });

  it('accepts an exec event, and says no when its argv was not captured', () => {
    assert.equal(isGitCommit({ command: 'git', args: ['commit', '-m', 'x'] }), true);
    assert.equal(isGitCommit({ command: 'git', args: null }), false);
  });

  it('finds the subcommand and its arguments', () => {
    assert.deepEqual(gitSubcommand(sh('git -C r -c a=b push origin main')), {
      name: 'push',
      args: ['origin', 'main'],
    });
    assert.equal(gitSubcommand(sh('ls -la')), undefined);
  });
});
