#!/usr/bin/env bash
# The whole test suite from a fresh clone: brokers (installed and started where missing),
# dependencies, build, then every test. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "test: installing dependencies"
  npm ci --no-audit --no-fund
fi
echo "test: building"
npm run build --silent

# Idle SSE streams and many concurrent clients need more descriptors than the default 1024.
ulimit -n 65536 2>/dev/null || true

log=$(mktemp)
set +e
npx mocha "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '^ *[0-9]+ passing' "$log" | grep -Eo '[0-9]+' | tail -1)
failed=$(grep -Eo '^ *[0-9]+ failing' "$log" | grep -Eo '[0-9]+' | tail -1)
pending=$(grep -Eo '^ *[0-9]+ pending' "$log" | grep -Eo '[0-9]+' | tail -1)
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${pending:-0} skipped"
if [ "${passed:-0}" = 0 ] && [ "$status" = 0 ]; then status=1; fi
exit "$status"
