#!/usr/bin/env bash
# `jwt crack` speed (issue 7), in one run on one HS256 token with a 335-byte
# signing input: Keyward (in process and the release binary) with 1 thread and
# all threads, a raw single-purpose HMAC-SHA256 loop (the practical limit) on
# the same threads, the `hmac` crate for reference, and jwt-hack, with the
# ratios to the targets (>= 90% of the raw loop, >= 4x jwt-hack).
#
# A benchmark, not a test: not part of .ci/run. Figures depend on the machine
# and on what else runs on it; run it on an idle machine.
#   scripts/bench-crack.sh                  # 3,000,000 candidates, best of 3
#   KEYWARD_BENCH_WORDS=10000000 scripts/bench-crack.sh
# jwt-hack is installed once into target/bench-tools (cargo install
# jwt-hack --locked); set JWT_HACK=/path/to/jwt-hack to use another build.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
tools="$target/bench-tools"

if [ -z "${JWT_HACK:-}" ]; then
  if [ ! -x "$tools/bin/jwt-hack" ]; then
    mkdir -p "$tools"
    echo "installing jwt-hack into $tools (cargo install jwt-hack --locked; a few minutes)..."
    if ! cargo install jwt-hack --locked --root "$tools" >"$tools/install.log" 2>&1; then
      echo "jwt-hack could not be installed (see $tools/install.log): its figures are skipped"
    fi
  fi
  if [ -x "$tools/bin/jwt-hack" ]; then
    JWT_HACK="$tools/bin/jwt-hack"
  fi
fi
if [ -n "${JWT_HACK:-}" ]; then
  export JWT_HACK
  echo "jwt-hack: $("$JWT_HACK" --version 2>/dev/null | head -n 1)"
fi

echo "building keyward (release)..."
cargo build --release -p keyward --quiet
export KEYWARD_BIN="$target/release/keyward"
export KEYWARD_BENCH_DIR="${KEYWARD_BENCH_DIR:-$target/bench-crack}"
cargo bench -p keyward-core --bench crack --quiet
