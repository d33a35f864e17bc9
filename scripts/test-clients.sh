#!/usr/bin/env bash
# npm run test:clients [-- --latest]: the real agents against `tokenpool serve` on the fakes
# (test/clients). Without arguments at the versions pinned in test/clients/clients.json; with
# --latest at each client's newest release on the npm registry, installed into the scratch folder
# .cache/clients-latest/, so a new client release is checked in one command. Expects a fresh build
# (npm run build, which the npm script runs first).
set -euo pipefail

cd "$(dirname "$0")/.."
bash scripts/clients-setup.sh "$@"
if [[ " $* " == *" --latest "* ]]; then
  export TOKENPOOL_CLIENTS_DIR="$PWD/.cache/clients-latest"
fi
TEST_CONCURRENCY=1 node scripts/run-tests.mjs clients
