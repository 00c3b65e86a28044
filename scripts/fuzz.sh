#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target in fuzz/ for a bounded time, from its committed seeds
# (fuzz/corpus/<target>) and what earlier runs found (fuzz/growth/<target>, git-ignored, minimised
# after each clean run). Runs them all, then exits non-zero if any crashed (a panic, a failed
# property, a stack overflow, an input slower than 10 s or memory past libFuzzer's limit); each
# crash's input is kept in fuzz/artifacts/<target>/.
#   ROSTER_FUZZ_SECONDS    seconds per target (default 30)
#   ROSTER_FUZZ_TARGETS    the targets to run, space-separated (default: all)
#   ROSTER_FUZZ_SANITIZER  none (default: the domain forbids unsafe code, so speed buys more), or
#                          address, which also names the input of a stack overflow
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-fuzz, pinned, installed here rather than by tools.sh so that `make test` and CI do not
# build it; built in a temporary directory of cargo's own, not in the workspace's build cache.
CARGO_FUZZ_VERSION=0.13.2
tools=.local/tools
if [ "$("$tools/cargo-fuzz/bin/cargo-fuzz" --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  rm -rf "$tools/cargo-fuzz"
  env -u CARGO_TARGET_DIR cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION" \
    --root "$tools/cargo-fuzz"
fi
export PATH="$PWD/$tools/cargo-fuzz/bin:$PATH"
# cargo-fuzz passes nightly-only flags (-Zsanitizer, coverage instrumentation) to the stable
# compiler, which takes them with RUSTC_BOOTSTRAP set.
export RUSTC_BOOTSTRAP=1
# Instrumented builds of their own, apart from the workspace's build cache.
export CARGO_TARGET_DIR="$HOME/.cache/roster/fuzz-target"

seconds="${ROSTER_FUZZ_SECONDS:-30}"
sanitizer="${ROSTER_FUZZ_SANITIZER:-none}"
read -r -a targets <<< "${ROSTER_FUZZ_TARGETS:-$(cargo fuzz list | tr '\n' ' ')}"

# Every target, so a build error shows as one before any fuzzing.
cargo fuzz build --sanitizer "$sanitizer"
failed=()
for target in "${targets[@]}"; do
  mkdir -p "fuzz/growth/$target" "fuzz/artifacts/$target"
  log="fuzz/artifacts/$target/fuzz.log"
  if cargo fuzz run --sanitizer "$sanitizer" "$target" "fuzz/growth/$target" "fuzz/corpus/$target" \
    -- -max_total_time="$seconds" -timeout=10 >"$log" 2>&1; then
    echo "fuzz: $target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log"), no crash"
    # Keeps only the inputs that add coverage, so the grown corpus stays small run after run.
    cargo fuzz cmin --sanitizer "$sanitizer" "$target" "fuzz/growth/$target" >>"$log" 2>&1
  else
    failed+=("$target")
    echo "fuzz: $target FAILED; its output is in $log" >&2
    grep -A3 "panicked at" "$log" | head -n 8 >&2 || true
    grep -E "^SUMMARY:|^Error: Fuzz target exited" "$log" >&2 || true
    crash=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -n 1 | cut -d' ' -f5 || true)
    if [ -n "$crash" ]; then
      echo "fuzz: reproduce with $CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/$target $crash" >&2
    else
      echo "fuzz: the target died without naming its input (a stack overflow without a" \
        "sanitizer does); run it again with ROSTER_FUZZ_SANITIZER=address" >&2
    fi
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#targets[@]} targets crashed: ${failed[*]}" >&2
  exit 1
fi
