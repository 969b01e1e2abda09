#!/usr/bin/env bash
# Runs Relay from a fresh clone: installs dependencies and builds when needed, then starts the
# web process. With RABBITMQ_URL and REDIS_URL unset that is the embedded, single-process mode.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if [ ! -f dist/embedded/main.js ] || [ -n "$(find core server consumer embedded public -newer dist/embedded/main.js -print -quit)" ]; then
  npm run build --silent
fi
exec node dist/embedded/main.js
