#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked
# gnome-keyring Secret Service, and a throwaway HOME for its keyring files.
#   scripts/with-keyring.sh cargo test
set -euo pipefail
if [ "${KEYWARD_IN_KEYRING:-}" = 1 ]; then
  exec "$@"
fi
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export KEYWARD_REAL_HOME="$HOME"
# Tools keep their caches in the real HOME.
export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
tmp_home=$(mktemp -d "${TMPDIR:-/tmp}/keyward-home.XXXXXX")
trap 'rm -rf "$tmp_home"' EXIT
HOME="$tmp_home" KEYWARD_IN_KEYRING=1 dbus-run-session -- bash -c '
  set -euo pipefail
  eval "$(printf %s "${KEYRING_PASSWORD:-keyward-ci}" | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  "$@"' with-keyring "$@"
