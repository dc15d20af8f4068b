#!/usr/bin/env bash
# Supply-chain checks: the licenses, banned crates and sources of the whole
# dependency tree (cargo-deny, rules in deny.toml) and dependencies declared
# but never used (cargo-machete). Installs both tools on first use with
# `cargo install --locked` (a few minutes, once); later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$bin:$PATH"

ensure() { # ensure TOOL VERSION
  if ! "$1" --version 2>/dev/null | grep -qF "$2"; then
    echo "supply-chain: installing $1 $2"
    cargo install "$1" --locked --version "$2" --quiet
  fi
}
ensure cargo-deny 0.20.2
ensure cargo-machete 0.9.2

echo "==> cargo deny check licenses bans sources"
cargo deny --color never check --hide-inclusion-graph licenses bans sources
echo "==> cargo machete (unused dependencies)"
cargo machete
