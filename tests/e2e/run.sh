#!/usr/bin/env bash
# End-to-end tests of the Keyward desktop app (see run.mjs for the tests).
#
# Assumes: the system packages of SETUP.md (WebKitWebDriver, xvfb), a built
# workspace (target/debug/keyward-desktop with ui/dist embedded, and
# target/debug/keyward), and a D-Bus session with an unlocked Secret Service
# (e.g. inside `dbus-run-session` after `gnome-keyring-daemon --unlock`).
# Starts its own Xvfb when $DISPLAY is empty. The seeded keys' secrets stay
# in that keyring: use a throwaway one (a temporary HOME), not your own.
#
# Also starts an OpenBao dev server on 127.0.0.1 (scripts/bao-env.sh installs
# it into .venv-bao when missing) for the team-vault test.
#
# Prints `N passed, M failed` last; exits non-zero on any failure.
# Screenshots: tests/e2e/screenshots/*.png
#
# `run.sh --perf` prints the performance figures instead (perf.mjs; needs
# `cargo build --example seed_bulk`, seeds 1,000 keys and 1,000,000 events).
set -euo pipefail

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
APP=${KEYWARD_DESKTOP_BIN:-$TARGET/debug/keyward-desktop}
CLI=${KEYWARD_CLI_BIN:-$TARGET/debug/keyward}

if [[ -z "${DISPLAY:-}" ]]; then
  command -v xvfb-run >/dev/null || { echo "run.sh: no \$DISPLAY and no xvfb-run (apt-get install xvfb)" >&2; exit 2; }
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi

for bin in "$APP" "$CLI"; do
  [[ -x "$bin" ]] || { echo "run.sh: $bin is missing: build first (npm --prefix ui ci && npm --prefix ui run build && cargo build --workspace)" >&2; exit 2; }
done
command -v WebKitWebDriver >/dev/null || { echo "run.sh: WebKitWebDriver is missing (apt-get install webkit2gtk-driver)" >&2; exit 2; }
command -v xclip >/dev/null || { echo "run.sh: xclip is missing (apt-get install xclip): the clipboard tests read the clipboard with it" >&2; exit 2; }
if [[ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]]; then
  echo "run.sh: no D-Bus session: run inside dbus-run-session with an unlocked gnome-keyring (see SETUP.md)" >&2
  exit 2
fi

if ! command -v tauri-driver >/dev/null; then
  echo "run.sh: installing tauri-driver" >&2
  cargo install tauri-driver --locked --version '^2'
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi

# npm ci, unless node_modules is newer than the lockfile (npm keeps its own
# copy of the lock there, written at install time).
if [[ ! "$E2E/node_modules/.package-lock.json" -nt "$E2E/package-lock.json" ]]; then
  (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keyward-e2e.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/empty" "$WORK/scan" "$WORK/saved"

# `run.sh --perf`: the performance figures instead of the tests (perf.mjs).
if [[ "${1:-}" == "--perf" ]]; then
  SEED=${KEYWARD_SEED_BIN:-$TARGET/debug/examples/seed_bulk}
  [[ -x "$SEED" ]] || { echo "run.sh: $SEED is missing: cargo build --example seed_bulk" >&2; exit 2; }
  mkdir -p "$E2E/screenshots" "$WORK/perf-empty"
  export NO_AT_BRIDGE=1
  KEYWARD_E2E_APP=$APP KEYWARD_E2E_SEED=$SEED KEYWARD_E2E_WORK=$WORK KEYWARD_E2E_SHOTS=$E2E/screenshots \
    node "$E2E/perf.mjs"
  exit
fi

# Seed through the real CLI. `key new --kind api` prints the new secret:
# keep it out of the logs.
"$CLI" --vault "$WORK/vault" key new --kind api --name e2e-api >/dev/null
"$CLI" --vault "$WORK/vault" key new --kind signing --alg ES256 --name e2e-signer >/dev/null

# The vault of the flows: a signer and a token it signed, an HS256 key with
# a guessable secret and its token, an API key "leaked" into a file for the
# scan view, and a PEM from another vault to import by paste.
F=(--vault "$WORK/flow")
"$CLI" "${F[@]}" key new --kind signing --alg ES256 --name flow-signer >/dev/null
printf 'secret' | "$CLI" "${F[@]}" key import --kind signing --alg HS256 --name flow-weak >/dev/null 2>&1
"$CLI" "${F[@]}" --json key new --kind api --name flow-leaked \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write("API_KEY="+JSON.parse(s).secret+"\n"))' \
  > "$WORK/scan/.env"
TOKEN=$("$CLI" "${F[@]}" jwt sign --key flow-signer --sub alice --aud api --ttl 1h)
WEAK_TOKEN=$("$CLI" "${F[@]}" jwt sign --key flow-weak --sub bob --ttl 10m)
"$CLI" --vault "$WORK/other" key new --kind signing --alg ES256 --name donor >/dev/null
"$CLI" --vault "$WORK/other" key export donor --format pem > "$WORK/import.pem"

# A vault whose key is overdue for rotation: the app rotates it at start.
"$CLI" --vault "$WORK/due" key new --kind signing --alg ES256 --name due-signer >/dev/null
"$CLI" --vault "$WORK/due" key policy due-signer --auto-rotate 1s >/dev/null
# Another, in the switcher's list: the app rotates it when switched to.
"$CLI" --vault "$WORK/switch-due" key new --kind signing --alg ES256 --name switch-due-signer >/dev/null
"$CLI" --vault "$WORK/switch-due" key policy switch-due-signer --auto-rotate 1s >/dev/null
sleep 1

# A team vault on a real OpenBao dev server (scripts/bao-env.sh installs it
# once into .venv-bao, the version the team tests use). The dev server keeps
# its data in single-node Raft so it has a leader to show. The key is made
# by "alice-e2e" so the app can say who changed it last.
source "$ROOT/scripts/bao-env.sh"
BAO_PORT=$(bao_free_port)
BAO_CLUSTER_PORT=$(bao_free_port)
mkdir -p "$WORK/bao/raft"
cat > "$WORK/bao/raft.hcl" <<HCL
storage "raft" {
  path    = "$WORK/bao/raft"
  node_id = "e2e"
}
api_addr     = "http://127.0.0.1:$BAO_PORT"
cluster_addr = "http://127.0.0.1:$BAO_CLUSTER_PORT"
HCL
bao_dev_start "$WORK/bao/server.log" -dev-listen-address="127.0.0.1:$BAO_PORT" -config="$WORK/bao/raft.hcl"
BAO_PID=$bao_pid
cleanup() {
  kill "$BAO_PID" 2>/dev/null || true
  wait "$BAO_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
BAO_URL="http://127.0.0.1:$BAO_PORT"
bao_wait "$BAO_URL" || { tail -n 20 "$WORK/bao/server.log"; echo "run.sh: OpenBao did not start" >&2; exit 1; }
printf 'root\n' > "$WORK/bao/token"
"$CLI" --vault "$WORK/team" vault init --backend openbao --addr "$BAO_URL" \
  --team e2e --token-file "$WORK/bao/token" --audit-file none >/dev/null
USER=alice-e2e "$CLI" --vault "$WORK/team" key new --kind signing --alg ES256 --name team-signer >/dev/null
# The app's configuration and default vault for the switcher test: the
# personal default (seeded), the team vault and the switch-due vault in the
# list, personal open.
mkdir -p "$WORK/config/keyward" "$WORK/data"
"$CLI" --vault "$WORK/data/keyward" key new --kind api --name personal-api >/dev/null
node -e 'process.stdout.write(JSON.stringify({vault: process.argv[1], vaults: process.argv.slice(2)}))' \
  "$WORK/data/keyward" "$WORK/team" "$WORK/switch-due" > "$WORK/config/keyward/desktop.json"

mkdir -p "$E2E/screenshots" && rm -f "$E2E"/screenshots/*.png
# No accessibility bus: it only adds D-Bus noise to the log here.
export NO_AT_BRIDGE=1
KEYWARD_E2E_APP=$APP \
KEYWARD_E2E_CLI=$CLI \
KEYWARD_E2E_VAULT=$WORK/vault \
KEYWARD_E2E_EMPTY=$WORK/empty \
KEYWARD_E2E_SHOTS=$E2E/screenshots \
KEYWARD_E2E_FLOW=$WORK/flow \
KEYWARD_E2E_DUE=$WORK/due \
KEYWARD_E2E_SWITCH_DUE=$WORK/switch-due \
KEYWARD_E2E_TOKEN=$TOKEN \
KEYWARD_E2E_WEAK_TOKEN=$WEAK_TOKEN \
KEYWARD_E2E_PEM=$WORK/import.pem \
KEYWARD_E2E_SCAN=$WORK/scan \
KEYWARD_E2E_SAVED=$WORK/saved \
KEYWARD_E2E_TEAM=$WORK/team \
KEYWARD_E2E_BAO_ADDR=$BAO_URL \
KEYWARD_E2E_CONFIG_HOME=$WORK/config \
KEYWARD_E2E_DATA_HOME=$WORK/data \
  node "$E2E/run.mjs" "$@"
