#!/usr/bin/env bash
# Keyward's reliability suite (issue 8): crash consistency, environment
# faults, concurrency, bad input, leaks and bounded fuzzing, then the
# supply-chain checks. See README.md, "Reliability".
#
#   tests/reliability/run.sh            # the default (CI) run, a few minutes
#   KEYWARD_LONG_TESTS=1 tests/reliability/run.sh   # the long variants
#   tests/reliability/run.sh --no-supply-chain      # tests only
#
# The tests start their own D-Bus session and gnome-keyring for every
# keychain they use (they never touch the caller's), so this runs inside or
# outside scripts/with-keyring.sh. Needs: dbus-daemon, gnome-keyring-daemon,
# secret-tool (scripts/setup.sh installs them); root for the file-system
# fault tests (unshare -m: read-only bind mounts, a 1 MB tmpfs), which are
# skipped with a message otherwise.
set -euo pipefail   # pipefail: a failing cargo fails the filtered pipelines below
cd "$(dirname "$0")/../.."
supply_chain=1
[ "${1:-}" = "--no-supply-chain" ] && supply_chain=0

echo "==> reliability: CLI crash, fault, concurrency, race, bad-input and leak tests"
cargo test -p keyward --quiet \
  --test rel_crash --test rel_faults --test rel_concurrency --test rel_races \
  --test rel_bad_input --test rel_leaks -- --nocapture 2>&1 |
  { grep -E '^(test |running|test result)|kill cases|random runs|concurrent operations|malformed inputs|known secrets|SKIPPED|daemon died|panicked|failed|misbehaved|assert' || true; }

echo "==> reliability: fuzzing the token, key and API-key parsers"
cargo test -p keyward-core --quiet --test fuzz_parsers -- --nocapture 2>&1 |
  { grep -E '^(test |running|test result)|^fuzz |KEYWARD_FUZZ_SEED|panicked|finding' || true; }

if [ "$supply_chain" = 1 ]; then
  echo "==> supply chain"
  scripts/supply-chain.sh
fi
