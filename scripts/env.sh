# Sourced by scripts/dev.sh and scripts/test.sh: the environment of one local stack.
#   roster_stack_env NAME DYNAMODB_PORT MOTO_PORT
# Local endpoints reach the SDK through the standard AWS_ENDPOINT_URL* variables only.
roster_stack_env() {
  export ROSTER_STACK=$1
  export ROSTER_DYNAMODB_PORT=$2
  export ROSTER_MOTO_PORT=$3
  export AWS_REGION=eu-west-1
  export AWS_ACCESS_KEY_ID=local
  export AWS_SECRET_ACCESS_KEY=local
  export AWS_EC2_METADATA_DISABLED=true
  export AWS_ENDPOINT_URL="http://127.0.0.1:$ROSTER_MOTO_PORT"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ROSTER_DYNAMODB_PORT"
  export ROSTER_TABLE_NAME=roster
  export ROSTER_IMPORT_BUCKET=roster-imports
  export ROSTER_AVATAR_BUCKET=roster-avatars
  export ROSTER_SENDER_ADDRESS=no-reply@roster.example.com
  export ROSTER_SES_CONFIGURATION_SET=roster
  export ROSTER_STACK_NAME=roster
  export ROSTER_DYNAMODB_LOCAL_DIR="$PWD/.local/tools/dynamodb-local"
  # A fresh platform operator token per stack (never a fixed secret in the repository).
  ROSTER_PLATFORM_TOKEN="${ROSTER_PLATFORM_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}"
  export ROSTER_PLATFORM_TOKEN
  ROSTER_TOTP_SEALING_KEY="${ROSTER_TOTP_SEALING_KEY:-$(python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())')}"
  export ROSTER_TOTP_SEALING_KEY
  # The Web Push (VAPID) signing key: a P-256 scalar, base64url without padding.
  ROSTER_VAPID_PRIVATE_KEY="${ROSTER_VAPID_PRIVATE_KEY:-$(python3 -c 'import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="))')}"
  export ROSTER_VAPID_PRIVATE_KEY
  export ROSTER_VAPID_SUBJECT="${ROSTER_VAPID_SUBJECT:-mailto:no-reply@roster.example.com}"
  export ROSTER_APP_URL="${ROSTER_APP_URL:-http://127.0.0.1:${PORT:-3000}}"
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roster/target}"
}
