#!/usr/bin/env bash
# Installs what corral and its tests need, and only what is missing, so it is cheap to run every
# time: system packages from the distribution (bubblewrap, util-linux, ...) and the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v prlimit >/dev/null || need+=(util-linux)
command -v setpriv >/dev/null || need+=(util-linux)
# The seccomp probe and the escape battery use unshare, nsenter and script(1).
command -v unshare >/dev/null || need+=(util-linux)
command -v nsenter >/dev/null || need+=(util-linux)
command -v script >/dev/null || need+=(bsdutils)
command -v ps >/dev/null || need+=(procps)
command -v python3 >/dev/null || need+=(python3)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v git >/dev/null || need+=(git)
command -v tar >/dev/null || need+=(tar)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "corral: missing system packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "corral: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

major_minor=$(node -p 'process.versions.node.split(".").slice(0,2).join(".")' 2>/dev/null || echo 0.0)
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "corral: needs Node.js >= 20.19 (found ${major_minor}); see https://nodejs.org/en/download" >&2
  exit 1
fi

# npm ci only when the installed tree is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
