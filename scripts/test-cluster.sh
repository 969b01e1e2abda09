#!/usr/bin/env bash
# The cluster tests: starts a 3-node RabbitMQ cluster and a Redis Cluster of 3 masters and 3
# replicas on loopback (scripts/cluster.sh), builds, runs test/cluster/, prints the figures of each
# fault run, and stops the clusters again (also when a test fails). Extra arguments go to mocha.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
results=$(mktemp)
cleanup() {
  echo "test:cluster: stopping the clusters"
  bash scripts/cluster.sh stop || true
  rm -f "$results"
}
trap cleanup EXIT

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
echo "test:cluster: building"
npm run build --silent
echo "test:cluster: starting the clusters"
bash scripts/cluster.sh start
ulimit -n 65536 2>/dev/null || true

set +e
CLUSTER_RESULTS_FILE="$results" npx mocha --no-color --timeout 600000 'test/cluster/**/*.test.ts' "$@"
status=$?
set -e
echo
echo "test:cluster: figures of each fault run"
cat "$results"
echo "test:cluster: $(( $(date +%s) - started )) s in all"
exit "$status"
