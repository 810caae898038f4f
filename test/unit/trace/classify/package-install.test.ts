import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPackageInstall } from '../../../../src/trace/classify/package-install.js';

const sh = (s: string) => s.split(' ');

describe('isPackageInstall', () => {
  it('recognises installs across package managers', () => {
    for (const line of [
      'npm i left-pad',
      'npm install',
      'npm ci',
      'npm add react',
      'npm isntall typo-is-an-alias',
      'npm --prefix /app install express',
      'npm -g i pnpm',
      '/usr/local/bin/npm install-test',
      'yarn',
      'yarn add lodash',
      'yarn --cwd web install',
      'yarn global add serve',
      'pnpm add -D vitest',
      'pnpm -C pkg install',
      'pnpm i',
      'bun add zod',
      'pip install requests',
      'pip3 install -r requirements.txt',
      'pip3.11 install --user x',
      'python -m pip install x',
      'python3 -m pip install --upgrade pip',
      '/usr/bin/python3.12 -I -m pip install y',
      'uv pip install ruff',
      'uv add httpx',
      'pipx install black',
      'poetry add fastapi',
      'conda install numpy',
      'apt install curl',
      'apt-get install -y build-essential',
      'apt-get -o Dpkg::Options::=--force-confnew -y install nginx',
      'sudo apt-get install git',
      'dnf install -y gcc',
      'yum install make',
      'apk add --no-cache bash',
      'zypper in vim',
      'pacman -S firefox',
      'pacman -Syu --noconfirm htop',
      'pacman -U pkg.tar.zst',
      'dpkg -i foo.deb',
      'brew install jq',
      'cargo install ripgrep',
      'cargo +nightly install cargo-fuzz',
      'cargo add serde',
      'go get github.com/x/y',
      'go install golang.org/x/tools/gopls@latest',
      'gem install rails',
      'bundle install',
      'composer require monolog/monolog',
      'nix profile install nixpkgs#hello',
      'nix-env -iA nixpkgs.hello',
      'dotnet add package Newtonsoft.Json',
      'deno install -g x.ts',
      'cpanm Moose',
    ])
      assert.equal(isPackageInstall(sh(line)), true, line);
  });

  it('does not flag commands that only look at packages', () => {
    for (const line of [
      'npm test',
      'npm run build',
      'npm ls',
      'npm --prefix install run build',
      'npm view install',
      'yarn --version',
      'yarn build',
      'pnpm run dev',
      'pip list',
      'pip show requests',
      'pip download x',
      'python -c import pip',
      'python script.py -m pip install',
      'apt list --installed',
      'apt-get update',
      'apt-cache search install',
      'pacman -Ss firefox',
      'pacman -Syu',
      'pacman -Qi bash',
      'dpkg -l',
      'cargo build',
      'go build ./...',
      'go test ./...',
      'gem list',
      'brew list',
      'ls install',
      'echo npm install',
    ])
      assert.equal(isPackageInstall(sh(line)), false, line);
  });
});
