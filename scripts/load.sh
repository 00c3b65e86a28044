#!/usr/bin/env bash
# `make load`: 50 clients for 60 s of profile reads and writes against the local API (release
# build, a stack of its own, loopback only). ROSTER_LOAD_CLIENTS and ROSTER_LOAD_SECONDS change
# the run. Fails on any error other than the expected 412s, and on any lost update.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
roster_stack_env load "${ROSTER_LOAD_DYNAMODB_PORT:-38000}" "${ROSTER_LOAD_MOTO_PORT:-34566}"

scripts/tools.sh
trap 'scripts/stack.sh stop load' EXIT
scripts/stack.sh start load "$ROSTER_DYNAMODB_PORT" "$ROSTER_MOTO_PORT"
cargo run --quiet -p roster-local -- provision
cargo build --quiet --release -p roster-bench
"$CARGO_TARGET_DIR/release/roster-bench" load
