#!/usr/bin/env bash
# `keyward scan` beside ripgrep on a generated 10,000-file tree, in one run
# (files/s, MB/s and the throughput ratio against the ≥ 0.5× target).
# Installs ripgrep from apt when it is missing. Extra arguments go to cargo.
#   scripts/bench-scan.sh
#   KEYWARD_BENCH_STRICT=1 scripts/bench-scan.sh   # exit 1 below the target
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v rg >/dev/null 2>&1; then
  echo "==> installing ripgrep (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends ripgrep >/dev/null 2>&1 || {
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends ripgrep >/dev/null
  }
fi
rg --version | sed -n 1p
exec cargo bench -p keyward-core --bench scan "$@"
