#!/usr/bin/env bash
# Quickstart, step 1: install everything, build, then run a command in a sandbox with limits.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run build --silent
echo "corral: installed. A sandboxed run with limits:" >&2
set -x
npx --no-install corral run --memory 64Mi --pids 32 --cpus 0.5 --timeout 10s --nofile 64 -- \
  sh -c 'echo "hello from $(hostname), uid $(id -u), $(ps -e --no-headers | wc -l) processes visible"'
