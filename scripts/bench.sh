#!/usr/bin/env bash
# `make bench`: a stack of its own, the release build, the budgets measured side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
roster_stack_env bench "${ROSTER_BENCH_DYNAMODB_PORT:-28000}" "${ROSTER_BENCH_MOTO_PORT:-24566}"

scripts/tools.sh
trap 'scripts/stack.sh stop bench' EXIT
# The bench stores over a million items (imports, 200,000 reservations): more heap than the JVM's
# default quarter of the machine's memory leaves room for.
ROSTER_DYNAMODB_HEAP=${ROSTER_DYNAMODB_HEAP:-12g} scripts/stack.sh start bench "$ROSTER_DYNAMODB_PORT" "$ROSTER_MOTO_PORT"
cargo run --quiet -p roster-local -- provision
# The bench, and the four functions' release binaries whose cold starts it times.
cargo build --quiet --release -p roster-bench -p profile-api -p scim -p csv-import -p jobs
ROSTER_BENCH_BINARY_DIR="$CARGO_TARGET_DIR/release" \
  ROSTER_BENCH_PEER_BIN="$PWD/.local/tools/peer-venv/bin" \
  "$CARGO_TARGET_DIR/release/roster-bench"
