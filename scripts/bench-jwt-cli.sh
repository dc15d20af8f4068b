#!/usr/bin/env bash
# Wall time of one `keyward jwt verify` invocation with an HS256 secret file
# (no keychain touched), beside `true` and `keyward --version` measured in
# the same run (process start-up baselines). Target: <= 5 ms for HS256.
# Needs hyperfine (apt-get install hyperfine) and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release -p keyward --quiet
kw=target/release/keyward
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
head -c 32 /dev/urandom > "$tmp/secret"
# An HS256 token signed with that secret (openssl, independent of Keyward).
b64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64)
p=$(printf '{"sub":"bench","iat":%d,"exp":%d}' "$now" $((now + 3600)) | b64)
s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(xxd -p -c 256 "$tmp/secret")" -binary | b64)
token="$h.$p.$s"
"$kw" jwt verify "$token" --secret-file "$tmp/secret" --quiet >/dev/null
hyperfine -N --warmup 20 --runs 300 --export-json "$tmp/h.json" \
  "true" "$kw --version" "$kw jwt verify $token --secret-file $tmp/secret --quiet" >/dev/null
python3 - "$tmp/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
names = ["true (process start)", "keyward --version", "keyward jwt verify (HS256, secret file)"]
for name, x in zip(names, r):
    print(f"{name:<42} mean {x['mean']*1e3:6.2f} ms  median {x['median']*1e3:6.2f} ms")
v = r[2]["median"] * 1e3
print(f"jwt verify median {v:.2f} ms vs target 5 ms: {'met' if v <= 5 else 'NOT met'}; {v - r[1]['median']*1e3:.2f} ms above `keyward --version`")
PY
