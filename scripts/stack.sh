#!/usr/bin/env bash
# Starts or stops one local AWS stack: DynamoDB Local and moto (S3, SES v2, SNS, email outbox).
#   scripts/stack.sh start NAME DYNAMODB_PORT MOTO_PORT
#   scripts/stack.sh stop NAME
# State (pids, logs) lives in .local/stack-NAME. A stack already running under NAME is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=.local/tools
action=${1:?usage: stack.sh start|stop NAME [DYNAMODB_PORT MOTO_PORT]}
name=${2:?stack name}
dir=.local/stack-$name

alive() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

wait_for() { # what url seconds
  local what=$1 url=$2 deadline=$((SECONDS + $3))
  until curl -s --max-time 2 -o /dev/null "$url"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "stack: $what did not answer at $url; its log:" >&2
      tail -n 30 "$dir/$what.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case $action in
  start)
    ddb_port=${3:?dynamodb port}
    moto_port=${4:?moto port}
    mkdir -p "$dir"
    if ! alive dynamodb; then
      port_free "$ddb_port" || { echo "stack: port $ddb_port is taken by another program" >&2; exit 1; }
      # ROSTER_DYNAMODB_HEAP (e.g. 12g) raises the JVM's heap for stacks that hold millions of items.
      (cd "$tools/dynamodb-local" && exec java ${ROSTER_DYNAMODB_HEAP:+-Xmx$ROSTER_DYNAMODB_HEAP} \
        -Djava.library.path=./DynamoDBLocal_lib \
        -jar DynamoDBLocal.jar -inMemory -port "$ddb_port") >"$dir/dynamodb.log" 2>&1 &
      echo $! > "$dir/dynamodb.pid"
    fi
    if ! alive moto; then
      port_free "$moto_port" || { echo "stack: port $moto_port is taken by another program" >&2; exit 1; }
      "$tools/venv/bin/python" scripts/moto_server.py 127.0.0.1 "$moto_port" >"$dir/moto.log" 2>&1 &
      echo $! > "$dir/moto.pid"
    fi
    wait_for dynamodb "http://127.0.0.1:$ddb_port" 60
    wait_for moto "http://127.0.0.1:$moto_port/_roster/outbox" 60
    ;;
  stop)
    pids=()
    for what in dynamodb moto; do
      if alive "$what"; then
        pids+=("$(cat "$dir/$what.pid")")
        kill "${pids[-1]}" 2>/dev/null || true
      fi
      rm -f "$dir/$what.pid"
    done
    # Wait for them to exit, so their ports are free for the next start.
    for _ in $(seq 50); do
      running=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
      [ $running = 0 ] && break
      sleep 0.1
    done
    ;;
  *)
    echo "usage: stack.sh start|stop NAME [DYNAMODB_PORT MOTO_PORT]" >&2
    exit 2
    ;;
esac
