#!/usr/bin/env bash
# `make test`: its own stack on its own ports, every test (unit and end-to-end), the stack stopped
# afterwards whatever happens. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
roster_stack_env test "${ROSTER_TEST_DYNAMODB_PORT:-18000}" "${ROSTER_TEST_MOTO_PORT:-14566}"

scripts/tools.sh
trap 'scripts/stack.sh stop test' EXIT
scripts/stack.sh start test "$ROSTER_DYNAMODB_PORT" "$ROSTER_MOTO_PORT"
cargo run --quiet -p roster-local -- provision
scripts/dev-smoke.sh
cargo nextest run --workspace --no-fail-fast --failure-output final
scripts/fuzz-test-api.sh
