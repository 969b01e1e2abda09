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
echo "test: lint and format check"
npm run lint --silent
echo "test: type check (application, tests and benchmarks)"
npm run typecheck --silent
echo "test: building"
npm run build --silent

# Idle SSE streams and many concurrent clients need more descriptors than the default 1024.
ulimit -n 65536 2>/dev/null || true

log=$(mktemp)
set +e
if [ $# -eq 0 ]; then
  set -- 'test/unit/**/*.test.ts' 'test/contract/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts'
fi
npx mocha --no-color "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
count() { { grep -Eo "^ *[0-9]+ $1" "$log" || true; } | grep -Eo '[0-9]+' | tail -1 || true; }
passed=$(count passing)
failed=$(count failing)
pending=$(count pending)
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${pending:-0} skipped"
if [ "${passed:-0}" = 0 ] && [ "$status" = 0 ]; then status=1; fi
exit "$status"
