#!/usr/bin/env bash
# Sets up a Debian/Ubuntu machine, builds Keyward (desktop app and CLI) and
# starts the desktop app. On a desktop session it uses your login keychain
# and default vault; without a display it starts a headless demo under Xvfb
# with a throwaway keychain and vault, and saves a screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
npm --prefix ui run build --silent
cargo build -p keyward-desktop -p keyward --quiet
echo "built: target/debug/keyward-desktop (app) and target/debug/keyward (CLI)"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec target/debug/keyward-desktop
fi
echo "no desktop session: starting a headless demo (throwaway keychain and vault, screenshot in target/keyward-demo.png)"
demo=$(mktemp -d)
export KEYWARD_VAULT="$demo/vault"
exec scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  target/debug/keyward key new --kind api --name demo-api --scope read >/dev/null
  target/debug/keyward key new --kind signing --alg ES256 --name demo-signer >/dev/null
  target/debug/keyward-desktop & app=$!
  sleep 8; import -window root target/keyward-demo.png
  echo "screenshot: target/keyward-demo.png (the app keeps running; Ctrl-C to stop)"
  wait $app'
