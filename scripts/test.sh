#!/usr/bin/env bash
# The whole check: system and npm dependencies, lint, typecheck, then every test suite.
# CORRAL_REQUIRE_INTEGRATION=1 (set by .ci/run) turns skipped integration tests into failures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent lint
npm run --silent typecheck
node scripts/run-tests.mjs "$@"
