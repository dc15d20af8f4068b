#!/usr/bin/env bash
# Team-vault benchmark against a real OpenBao dev server on 127.0.0.1, with
# the same operations done by the `bao` CLI and by raw HTTP (one kept-alive
# connection, Python's http.client) measured in the same run:
#   - `keyward key list` over 1,000 team keys (warm cache; a new client's
#     first full pull), beside `bao kv list` and a raw LIST / 1,000 GETs;
#   - `keyward jwt sign` through transit (per-op latency), beside
#     `bao write transit/sign` and raw POSTs;
#   - rotation throughput with two concurrent clients (same key: check-and-set
#     conflicts; two keys: none), beside raw KV check-and-set writes.
# A benchmark, not a test: it prints figures and exits 0.
#   scripts/bench-team.sh                 (release build of the CLI)
#   KEYWARD_BENCH_KEYS=200 scripts/bench-team.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${KEYWARD_IN_KEYRING:-}" != 1 ]; then
  exec scripts/with-keyring.sh "$0" "$@"
fi
echo "==> building the CLI (release)"
cargo build --release -p keyward --quiet
export KEYWARD_BIN="$PWD/target/release/keyward"
source tests/team/bao-dev.sh
export KEYWARD_BENCH_KEYS="${KEYWARD_BENCH_KEYS:-1000}"
echo "machine: $(nproc) cores, $(uname -sr)"
python3 - <<'PY'
import base64, http.client, json, os, statistics, subprocess, tempfile, threading, time, urllib.parse

KW = os.environ["KEYWARD_BIN"]
BAO = os.environ["KEYWARD_BAO_BIN"]
ADDR = os.environ["KEYWARD_BAO_ADDR"]
TOKEN_FILE = os.environ["KEYWARD_BAO_TOKEN_FILE"]
N = int(os.environ["KEYWARD_BENCH_KEYS"])
TEAM = f"bench{os.getpid()}"
tmp = tempfile.mkdtemp(prefix="keyward-bench-")
u = urllib.parse.urlparse(ADDR)

def kw(vault, *args, check=True):
    p = subprocess.run([KW, "--vault", vault, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise SystemExit(f"keyward {args}: exit {p.returncode}: {p.stderr}")
    return p

def bao(*args):
    p = subprocess.run([BAO, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bao {args}: {p.stderr}")
    return p.stdout

def timed(f, n):
    out = []
    for _ in range(n):
        t = time.perf_counter(); f(); out.append(time.perf_counter() - t)
    return out

def ms(xs):
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(len(xs) * 0.95))]
    return f"median {statistics.median(xs)*1000:8.2f} ms   p95 {p95*1000:8.2f} ms   (n={len(xs)})"

class Raw:
    """One kept-alive HTTP connection with the root token."""
    def __init__(self):
        self.c = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
    def req(self, method, path, body=None):
        h = {"X-Vault-Token": "root"}
        data = json.dumps(body) if body is not None else None
        self.c.request(method, "/v1/" + path, body=data, headers=h)
        r = self.c.getresponse(); raw = r.read()
        return r.status, (json.loads(raw) if raw else None)

def init(vault):
    kw(vault, "vault", "init", "--backend", "openbao", "--addr", ADDR,
       "--token-file", TOKEN_FILE, "--team", TEAM, "--audit-file", "none")

a = os.path.join(tmp, "a"); b = os.path.join(tmp, "b"); c = os.path.join(tmp, "c")
init(a)

print(f"\n== creating {N} team API keys (keyward key new, one process each)")
t0 = time.perf_counter()
for i in range(N):
    kw(a, "key", "new", "--kind", "api", "--name", f"key-{i:05d}")
dt = time.perf_counter() - t0
print(f"key new          {N/dt:8.1f} keys/s   ({dt/N*1000:.1f} ms each, process start included)")

print(f"\n== key list over {N} team keys")
print("keyward key list --json (warm cache)     ", ms(timed(lambda: kw(a, "--json", "key", "list"), 15)))
t = time.perf_counter(); init(b); first = time.perf_counter() - t
print(f"keyward vault init, new client (full pull of {N} documents)   {first*1000:8.1f} ms")
print("keyward key list --json (new client, warm)", ms(timed(lambda: kw(b, "--json", "key", "list"), 15)))
print(f"bao kv list (CLI)                         ", ms(timed(lambda: bao("kv", "list", "-format=json", f"secret/keyward/{TEAM}/keys"), 15)))
raw = Raw()
print("raw HTTP LIST metadata/keys               ", ms(timed(lambda: raw.req("GET", f"secret/metadata/keyward/{TEAM}/keys?list=true"), 50)))
ids = raw.req("GET", f"secret/metadata/keyward/{TEAM}/keys?list=true")[1]["data"]["keys"]
t = time.perf_counter()
for i in ids:
    raw.req("GET", f"secret/data/keyward/{TEAM}/keys/{i}")
print(f"raw HTTP GET of all {len(ids)} documents (one connection)  {(time.perf_counter()-t)*1000:8.1f} ms")

print("\n== jwt sign through transit (ES256), per operation")
kw(a, "key", "new", "--kind", "signing", "--name", "t-es256", "--alg", "ES256", "--custody", "transit")
kw(a, "key", "new", "--kind", "signing", "--name", "l-es256", "--alg", "ES256")
tid = json.loads(kw(a, "--json", "key", "show", "t-es256").stdout)["id"]
tname = f"keyward-{TEAM}-{tid}"
print("keyward jwt sign (transit custody)        ", ms(timed(lambda: kw(a, "jwt", "sign", "--key", "t-es256", "--ttl", "5m"), 40)))
print("keyward jwt sign (key in OpenBao KV)      ", ms(timed(lambda: kw(a, "jwt", "sign", "--key", "l-es256", "--ttl", "5m"), 40)))
inp = base64.b64encode(b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0").decode()
print("bao write transit/sign (CLI)              ", ms(timed(lambda: bao("write", "-field=signature", f"transit/sign/{tname}", f"input={inp}", "marshaling_algorithm=jws", "hash_algorithm=sha2-256"), 20)))
print("raw HTTP POST transit/sign                ", ms(timed(lambda: raw.req("POST", f"transit/sign/{tname}", {"input": inp, "marshaling_algorithm": "jws", "hash_algorithm": "sha2-256"}), 200)))

print("\n== rotation throughput, two clients at once (20 rotations each)")
init(c)
kw(a, "key", "new", "--kind", "api", "--name", "rot-shared")
kw(a, "key", "new", "--kind", "api", "--name", "rot-a")
kw(a, "key", "new", "--kind", "api", "--name", "rot-b")
def rotations(vault, key, n, res):
    ok = conflict = 0
    for _ in range(n):
        p = kw(vault, "key", "rotate", key, check=False)
        if p.returncode == 0: ok += 1
        elif p.returncode == 2 and "changed by someone else" in p.stderr: conflict += 1
        else: raise SystemExit(f"rotate: exit {p.returncode}: {p.stderr}")
    res.append((ok, conflict))
for label, keys in (("same key (check-and-set races)", ("rot-shared", "rot-shared")), ("two keys (no contention)", ("rot-a", "rot-b"))):
    res = []
    th = [threading.Thread(target=rotations, args=(v, k, 20, res)) for v, k in ((a, keys[0]), (c, keys[1]))]
    t = time.perf_counter(); [x.start() for x in th]; [x.join() for x in th]; dt = time.perf_counter() - t
    ok = sum(r[0] for r in res); conflict = sum(r[1] for r in res)
    print(f"keyward key rotate, {label:32s} {ok/dt:6.1f} committed/s  ({ok} won, {conflict} refused as changed elsewhere, {dt:.1f} s)")
def raw_cas(path, n, res):
    r = Raw(); ok = conflict = 0
    for _ in range(n):
        st, body = r.req("GET", f"secret/data/{path}")
        ver = body["data"]["metadata"]["version"] if st == 200 else 0
        st, _ = r.req("POST", f"secret/data/{path}", {"options": {"cas": ver}, "data": {"v": ver + 1}})
        if st == 200: ok += 1
        else: conflict += 1
    res.append((ok, conflict))
for label, paths in (("same document", ("bench/raw-shared", "bench/raw-shared")), ("two documents", ("bench/raw-a", "bench/raw-b"))):
    res = []
    th = [threading.Thread(target=raw_cas, args=(p, 500, res)) for p in paths]
    t = time.perf_counter(); [x.start() for x in th]; [x.join() for x in th]; dt = time.perf_counter() - t
    ok = sum(r[0] for r in res); conflict = sum(r[1] for r in res)
    print(f"raw HTTP KV read + check-and-set write, {label:14s} {ok/dt:8.1f} committed/s  ({ok} won, {conflict} refused)")
print("\n(keyward figures include process start, opening SQLite, the change-feed check and an fsync'd commit)")
PY
