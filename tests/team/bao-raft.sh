# Sourced by tests/team/run.sh after bao-dev.sh: a 3-node OpenBao cluster
# with integrated (Raft) storage on 127.0.0.1, initialised with one unseal
# key, every node unsealed, KV v2 at secret/ and transit enabled. Exports
# KEYWARD_RAFT_ADDRS (comma-separated API addresses), KEYWARD_RAFT_TOKEN_FILE,
# KEYWARD_RAFT_PIDS ("addr=pid,..." so a test can stop the leader) and
# KEYWARD_RAFT_UNSEAL_KEY. Stopped by the EXIT trap. Loopback only.

raft_work=$(mktemp -d "${TMPDIR:-/tmp}/keyward-raft.XXXXXX")
raft_ports=($(python3 -c '
import socket
ss=[socket.socket() for _ in range(6)]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'))
raft_pids=()
raft_addrs=()
for n in 0 1 2; do
  api=${raft_ports[$((n * 2))]}
  cluster=${raft_ports[$((n * 2 + 1))]}
  mkdir -p "$raft_work/n$n"
  joins=""
  for m in 0 1 2; do
    [ "$m" = "$n" ] && continue
    joins+="  retry_join { leader_api_addr = \"http://127.0.0.1:${raft_ports[$((m * 2))]}\" }"$'\n'
  done
  cat > "$raft_work/n$n.hcl" <<HCL
storage "raft" {
  path    = "$raft_work/n$n"
  node_id = "n$n"
  # Fast elections, as for a LAN cluster (the default 5 is for slow links).
  performance_multiplier = 1
$joins}
listener "tcp" {
  address         = "127.0.0.1:$api"
  cluster_address = "127.0.0.1:$cluster"
  tls_disable     = true
}
api_addr      = "http://127.0.0.1:$api"
cluster_addr  = "http://127.0.0.1:$cluster"
disable_mlock = true
HCL
  "$bao" server -config="$raft_work/n$n.hcl" > "$raft_work/n$n.log" 2>&1 &
  raft_pids+=($!)
  raft_addrs+=("http://127.0.0.1:$api")
done
raft_cleanup() {
  for p in "${raft_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${raft_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$raft_work"
}
trap 'raft_cleanup; bao_cleanup' EXIT

raft_bao() { BAO_ADDR="$1" BAO_TOKEN="${raft_root:-}" "$bao" "${@:2}"; }
for _ in $(seq 1 100); do
  # `bao status` exits 2 when the server answers sealed, 1 when it does not answer.
  rc=0
  raft_bao "${raft_addrs[0]}" status >/dev/null 2>&1 || rc=$?
  [ "$rc" != 1 ] && break
  sleep 0.2
done
init_json=$(raft_bao "${raft_addrs[0]}" operator init -key-shares=1 -key-threshold=1 -format=json)
raft_key=$(printf %s "$init_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["unseal_keys_b64"][0])')
raft_root=$(printf %s "$init_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["root_token"])')
raft_bao "${raft_addrs[0]}" operator unseal "$raft_key" >/dev/null
# The others join node 0 (retry_join), then need the same key.
for n in 1 2; do
  for _ in $(seq 1 100); do
    raft_bao "${raft_addrs[$n]}" operator unseal "$raft_key" >/dev/null 2>&1 && break
    sleep 0.3
  done
done
for _ in $(seq 1 100); do
  voters=$(raft_bao "${raft_addrs[0]}" operator raft list-peers -format=json 2>/dev/null |
    python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin)["data"]["config"]["servers"] if s["voter"]))' 2>/dev/null || echo 0)
  [ "$voters" = 3 ] && break
  sleep 0.3
done
[ "$voters" = 3 ] || { tail -n 20 "$raft_work"/n*.log; echo "the Raft cluster did not form" >&2; exit 1; }
raft_bao "${raft_addrs[0]}" secrets enable -version=2 -path=secret kv >/dev/null
raft_bao "${raft_addrs[0]}" secrets enable transit >/dev/null
printf '%s\n' "$raft_root" > "$raft_work/token"
KEYWARD_RAFT_ADDRS=$(IFS=,; echo "${raft_addrs[*]}")
KEYWARD_RAFT_PIDS=""
for n in 0 1 2; do KEYWARD_RAFT_PIDS+="${raft_addrs[$n]}=${raft_pids[$n]},"; done
export KEYWARD_RAFT_ADDRS KEYWARD_RAFT_PIDS
export KEYWARD_RAFT_TOKEN_FILE="$raft_work/token" KEYWARD_RAFT_UNSEAL_KEY="$raft_key"
echo "OpenBao Raft cluster at $KEYWARD_RAFT_ADDRS"
