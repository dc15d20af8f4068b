#!/usr/bin/env bash
# Interop: tokens Keyward signs verify in PyJWT, and PyJWT's verify in
# Keyward, for every algorithm family. Installs PyJWT and cryptography into
# a venv of its own (.venv-interop, idempotent). Needs the built CLI
# (target/debug/keyward) and a Secret Service (run inside
# scripts/with-keyring.sh). Prints "N passed, M failed" last.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-interop
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import jwt, cryptography' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'pyjwt[crypto]>=2.8'
fi
exec "$venv/bin/python" tests/interop/pyjwt_interop.py "${KEYWARD_CLI_BIN:-target/debug/keyward}"
