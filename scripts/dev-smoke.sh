#!/usr/bin/env bash
# Checks `make dev` as a person uses it, on ports of its own: it becomes ready and writes dev.json,
# /health answers 200, each of dev.json's nine keys works (scripts/dev-json-check.py), a second
# start says it is already running, and stopping it stops its stack.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORT=${ROSTER_SMOKE_PORT:-13000}
export ROSTER_DEV_STACK=smoke ROSTER_DEV_DYNAMODB_PORT=18100 ROSTER_DEV_MOTO_PORT=14666
export ROSTER_DEV_JSON=.local/smoke-dev.json
log=.local/smoke-dev.log
mkdir -p .local
rm -f "$ROSTER_DEV_JSON"

fail() { echo "dev smoke: $*" >&2; cat "$log" >&2; exit 1; }

setsid scripts/dev.sh >"$log" 2>&1 &
dev=$!
trap 'kill -TERM -- -$dev 2>/dev/null || true' EXIT

for _ in $(seq 1500); do
  [ -f "$ROSTER_DEV_JSON" ] && break
  kill -0 $dev 2>/dev/null || fail "make dev exited before it was ready"
  sleep 0.2
done
[ -f "$ROSTER_DEV_JSON" ] || fail "not ready after 300 s"
base_url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$ROSTER_DEV_JSON")
[ "$base_url" = "http://127.0.0.1:$PORT" ] || fail "dev.json base_url is $base_url"
status=$(curl -s -o /dev/null -w '%{http_code}' "$base_url/health" || true)
[ "$status" = 200 ] || fail "/health answered $status"
python3 scripts/dev-json-check.py "$ROSTER_DEV_JSON" || fail "dev.json does not hold the nine keys of DESIGN.md section 8, each working"
grep -q "^Ready in [0-9]* s" "$log" || sleep 1
grep -q "^Ready in [0-9]* s" "$log" || fail "make dev did not print the time it took"

second=$(scripts/dev.sh 2>&1) || fail "a second make dev failed: $second"
echo "$second" | grep -q "already running" || fail "a second make dev said: $second"

kill -TERM $dev
for _ in $(seq 100); do kill -0 $dev 2>/dev/null || break; sleep 0.1; done
kill -0 $dev 2>/dev/null && fail "make dev did not stop"
curl -s -o /dev/null "$base_url/health" && fail "the API still answers after stopping"
curl -s -o /dev/null "http://127.0.0.1:$ROSTER_DEV_DYNAMODB_PORT" && fail "DynamoDB Local still runs after stopping"
[ -f "$ROSTER_DEV_JSON" ] && fail "dev.json is left behind"
trap - EXIT
echo "dev smoke: make dev became ready, answered /health, wrote a dev.json whose nine keys work (the seeded admin logs in), refused a second start, stopped cleanly"
