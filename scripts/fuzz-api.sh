#!/usr/bin/env bash
# Fuzzes /v1 from its own OpenAPI document with schemathesis, against a running local API (the one
# whose dev.json ROSTER_DEV_JSON names; default .local/dev.json, i.e. `make dev`'s). Checks the
# document is valid OpenAPI 3.1 first, then sends generated valid and invalid requests to every
# operation: no answer may be a server error, every answer must match the document (status,
# content type, headers, body schema), and every error must be problem+json.
#   ROSTER_FUZZ_EXAMPLES  examples per operation and phase (default 200; make test uses fewer)
# Exits non-zero on any failure; the report is in .local/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
dev_json=${ROSTER_DEV_JSON:-.local/dev.json}
examples=${ROSTER_FUZZ_EXAMPLES:-200}
venv=.local/tools/fuzz-venv
out=.local/fuzz
[ -f "$dev_json" ] || { echo "fuzz-api: $dev_json is missing; start the API first (make dev)" >&2; exit 1; }
[ -x "$venv/bin/schemathesis" ] || scripts/tools.sh
mkdir -p "$out"

eval "$(python3 tests/fuzz/credentials.py "$dev_json")"
curl -sf "$ROSTER_FUZZ_BASE_URL/v1/openapi.json" -o "$out/openapi.json"
"$venv/bin/openapi-spec-validator" "$out/openapi.json"

# schemathesis with the checks that apply: every check but `positive_data_acceptance` (a valid
# body may still name a user or site that does not exist) and `negative_data_rejection` (4.32.5's
# coverage phase reports optional properties as missing required ones). One worker: CPython
# 3.11's AST constructor keeps its recursion depth per interpreter, so hypothesis parsing sources
# on two threads at once can fail the run with "AST constructor recursion depth mismatch"
# (python/cpython#106905); a second worker saved no time here either.
fuzz() {
  SCHEMATHESIS_HOOKS=hooks PYTHONPATH=tests/fuzz "$venv/bin/schemathesis" \
    --config-file tests/fuzz/schemathesis.toml run "$out/openapi.json" \
    --url "$ROSTER_FUZZ_BASE_URL" \
    --checks all --exclude-checks positive_data_acceptance,negative_data_rejection \
    --max-examples "$examples" --workers 1 --seed "$seed" \
    --report junit --report-dir "$out" --output-truncate false "$@"
}
seed=${ROSTER_FUZZ_SEED:-$RANDOM}
echo "fuzz-api: seed $seed (ROSTER_FUZZ_SEED=$seed repeats this run)"
started=$SECONDS
# Logging out, ending a session and resetting a person's 2FA end sessions, and schemathesis feeds
# ids it read back into path parameters (the fuzzing session's own, the Admin's own), so they run
# last, on their own: what runs before them keeps a live session.
ending=(--include-operation-id logout --include-operation-id end_session
  --include-operation-id reset_user_mfa --include-operation-id platform_reset_user_mfa)
status=0
fuzz --exclude-operation-id logout --exclude-operation-id end_session \
  --exclude-operation-id reset_user_mfa --exclude-operation-id platform_reset_user_mfa || status=$?
session=$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $ROSTER_FUZZ_SESSION" \
  "$ROSTER_FUZZ_BASE_URL/v1/me")
[ "$session" = 200 ] || { echo "fuzz-api: the fuzzing session ended during the run ($session)" >&2; exit 1; }
fuzz "${ending[@]}" || status=$?
[ "$status" = 0 ] || exit "$status"
echo "fuzz-api: passed in $((SECONDS - started)) s ($examples examples per operation, seed $seed)"
