#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine and runs every check and test:
# formatting, lints, UI checks and unit tests, the Rust tests against a real
# Secret Service (a private D-Bus session with an unlocked gnome-keyring) —
# including the reliability suite (crash, faults, concurrency, bad input,
# leaks, fuzzing) —, the desktop end-to-end tests under Xvfb through
# WebDriver, the team-vault tests against a real OpenBao server on
# 127.0.0.1, and the supply-chain checks.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "setup"
scripts/setup.sh

step "UI build (embedded in the desktop binary)"
npm --prefix ui run build --silent

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "UI checks and unit tests"
npm --prefix ui run check --silent
npm --prefix ui test --silent

step "build"
cargo build --workspace --bins --quiet

step "Rust tests, desktop end-to-end tests, PyJWT interop (real Secret Service)"
scripts/with-keyring.sh bash -c 'cargo test --workspace && tests/e2e/run.sh && tests/interop/run.sh'

step "team vault tests (real OpenBao on 127.0.0.1)"
tests/team/run.sh

step "supply chain (cargo-deny, cargo-machete)"
scripts/supply-chain.sh

step "leak-scan benchmark (keyward scan beside ripgrep, figures only)"
scripts/bench-scan.sh

step "all checks passed in $(( $(date +%s) - started ))s"
