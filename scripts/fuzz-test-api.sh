#!/usr/bin/env bash
# make test's bounded schemathesis run: the API of the running test stack (sourced env) on a port of
# its own, fuzzed with few examples per operation (scripts/fuzz-api.sh), then stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORT=${ROSTER_TEST_FUZZ_PORT:-$((ROSTER_DYNAMODB_PORT - 4900))}
export ROSTER_DEV_JSON=.local/fuzz-$ROSTER_STACK.json
# The breached-password range API is refused at once (the local list decides), never the internet.
export ROSTER_BREACHED_RANGE_URL=http://127.0.0.1:9/range/
rm -f "$ROSTER_DEV_JSON"
cargo build --quiet -p roster-local
"$CARGO_TARGET_DIR/debug/roster-local" dev >.local/fuzz-$ROSTER_STACK.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$ROSTER_DEV_JSON"' EXIT
until [ -f "$ROSTER_DEV_JSON" ]; do
  kill -0 $server 2>/dev/null || { cat .local/fuzz-$ROSTER_STACK.log >&2; exit 1; }
  sleep 0.2
done
# A fixed seed: make test's verdict is the code's, not the draw's (make fuzz-api draws one).
ROSTER_FUZZ_EXAMPLES=${ROSTER_FUZZ_EXAMPLES:-25} ROSTER_FUZZ_SEED=${ROSTER_FUZZ_SEED:-1123} \
  scripts/fuzz-api.sh
