#!/usr/bin/env bash
# `make dev`: the stack, the resources, the demo organisation, and the API on 127.0.0.1:$PORT
# (3000), until Ctrl-C, which stops everything this started.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
source scripts/env.sh
roster_stack_env "${ROSTER_DEV_STACK:-dev}" "${ROSTER_DEV_DYNAMODB_PORT:-8000}" "${ROSTER_DEV_MOTO_PORT:-4566}"
export PORT="${PORT:-3000}"
export ROSTER_DEV_JSON="${ROSTER_DEV_JSON:-.local/dev.json}"
# One `make dev` per stack: the stack (and its data) goes when the make dev that started it stops.
lock=".local/dev-$ROSTER_STACK.pid"

if [ -f "$lock" ] && read -r running running_port < "$lock" && kill -0 "$running" 2>/dev/null; then
  echo "Roster is already running at http://127.0.0.1:$running_port (pid $running); details in $ROSTER_DEV_JSON."
  echo "Stop it with Ctrl-C in its terminal (or: kill $running). A second one at the same time needs its own"
  echo "stack: ROSTER_DEV_STACK=dev2 ROSTER_DEV_DYNAMODB_PORT=8001 ROSTER_DEV_MOTO_PORT=4567 ROSTER_DEV_JSON=.local/dev2.json PORT=3001 make dev"
  exit 0
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "Port $PORT is taken by another program; run with PORT=<free port> make dev." >&2
  exit 1
fi
mkdir -p .local
echo "$$ $PORT" > "$lock"

scripts/tools.sh
echo "Building Roster (the first build takes several minutes)..."
cargo build --quiet -p roster-local
cleanup() {
  trap - EXIT INT TERM
  if [ -n "${server:-}" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  scripts/stack.sh stop "$ROSTER_STACK"
  rm -f "$lock" "$ROSTER_DEV_JSON"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
scripts/stack.sh start "$ROSTER_STACK" "$ROSTER_DYNAMODB_PORT" "$ROSTER_MOTO_PORT"
rm -f "$ROSTER_DEV_JSON"
"$CARGO_TARGET_DIR/debug/roster-local" dev &
server=$!
until [ -f "$ROSTER_DEV_JSON" ]; do
  kill -0 "$server" 2>/dev/null || { echo "Roster failed to start; see the log above." >&2; exit 1; }
  sleep 0.2
done
echo "Ready in $((SECONDS - started)) s: curl http://127.0.0.1:$PORT/health"
python3 - "$ROSTER_DEV_JSON" <<'PY'
import json, sys
dev = json.load(open(sys.argv[1]))
print(f"Demo organisation {dev['organisation_id']}: log in as {dev['admin_email']} / {dev['admin_password']}")
PY
echo "Email outbox: $AWS_ENDPOINT_URL/_roster/outbox. Press Ctrl-C to stop."
wait "$server"
