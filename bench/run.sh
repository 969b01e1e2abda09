#!/usr/bin/env bash
# Starts what the benchmarks need, raises the descriptor limit, builds, then runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh >/dev/null
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
ulimit -n 200000 2>/dev/null || ulimit -n 65536 2>/dev/null || true
script=$1
shift
exec node --import tsx "bench/$script.ts" "$@"
