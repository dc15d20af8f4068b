#!/usr/bin/env bash
# Installs what Keyward needs to build, run and test on Debian/Ubuntu.
# Idempotent: what is already there is left alone. Needs root or sudo for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

packages=(
  # Tauri / WebKitGTK
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev
  libsoup-3.0-dev libssl-dev pkg-config build-essential
  # OS keychain (Secret Service over D-Bus)
  libdbus-1-dev gnome-keyring dbus dbus-x11 libsecret-1-dev libsecret-tools
  # Reliability tests: gdbus (a private session's keychain, item by item)
  libglib2.0-bin
  # Headless desktop tests: Xvfb, WebDriver, screenshots
  xvfb xauth webkit2gtk-driver at-spi2-core imagemagick
  xclip  # the desktop E2E reads the clipboard with it (copy, auto-clear)
  # Test tools: openssl makes a test certificate; venvs for PyJWT interop and OpenBao
  openssl python3-venv
  ca-certificates
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js >= 20.19 for the UI toolchain (Vite 7).
if ! command -v node >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
  echo "setup: Node.js >= 20.19 is required (found $(node --version)); install a newer nodejs package" >&2
  exit 1
}

# Rust (stable, with rustfmt and clippy).
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: Rust is required: install it with rustup (https://rustup.rs), then rerun" >&2
  exit 1
fi
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$comp"
  fi
done

# UI dependencies, reinstalled only when the lock file changed.
stamp=ui/node_modules/.keyward-lock
want=$(sha256sum ui/package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --prefix ui --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
