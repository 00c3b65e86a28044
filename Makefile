# Roster: `make dev` runs the service locally, `make test` runs every test.
.PHONY: dev test bench load fuzz fuzz-api check fmt lint tools

export CARGO_TARGET_DIR ?= $(HOME)/.cache/roster/target

dev:
	@scripts/dev.sh

test:
	@scripts/test.sh

## schemathesis against the running `make dev` (.local/dev.json), 200 examples per operation
fuzz-api: tools
	@scripts/fuzz-api.sh

## performance budgets (release build), printed as a table and written to target/bench/latest.json
bench:
	@scripts/bench.sh

## 50 clients for 60 s of profile reads and writes: latency percentiles, no error but 412, no lost update
load:
	@scripts/load.sh

## every fuzz target for ROSTER_FUZZ_SECONDS (30) each from its seeds; fails on any crash
fuzz:
	@scripts/fuzz.sh

## fmt check, clippy and cfn-lint, as CI runs them
check: tools
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	.local/tools/venv/bin/cfn-lint infra/template.yaml

fmt:
	cargo fmt --all

tools:
	@scripts/tools.sh
