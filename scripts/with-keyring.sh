#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked
# gnome-keyring Secret Service, and a throwaway HOME for its keyring files.
#   scripts/with-keyring.sh cargo test
#
# gnome-keyring-daemon aborts now and then under many short-lived Secret
# Service clients (upstream gnome-keyring issues 190/196/199, see README
# "Reliability"). The session bus would then start a new daemon for the
# next request by D-Bus activation, with the login keyring *locked*, and
# every later keychain test would fail. So the throwaway HOME carries its
# own activation file for org.freedesktop.secrets, which the bus prefers to
# the system's: a daemon that dies is started again by the next request,
# unlocked, with the same keyrings and control directory — the tests use
# the same daemon the same way they did before. A request that was in
# flight when the daemon died still fails (nothing is retried).
#
# Each start is logged in $KEYWARD_KEYRING_LOG (default: keyring.log in the
# throwaway HOME, printed at the end when the daemon died): the daemon's
# own messages and exit status. Set KEYWARD_KEYRING_LOG to keep it.
set -euo pipefail
if [ "${KEYWARD_IN_KEYRING:-}" = 1 ]; then
  exec "$@"
fi
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export KEYWARD_REAL_HOME="$HOME"
# Tools keep their caches in the real HOME.
export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
tmp_home=$(mktemp -d "${TMPDIR:-/tmp}/keyward-home.XXXXXX")
# The daemon's start script may still append its exit line to the log
# while the session ends: one retry, and never let cleanup turn the tests'
# exit status into a failure.
trap 'rm -rf "$tmp_home" 2>/dev/null || { sleep 0.5; rm -rf "$tmp_home"; } || true' EXIT
log="${KEYWARD_KEYRING_LOG:-$tmp_home/keyring.log}"
: >"$log"
control="$tmp_home/keyring-control"
mkdir -p "$control" "$tmp_home/.local/share/dbus-1/services"
chmod 700 "$control"

# Starts the daemon in the foreground, unlocked, and records how it ended.
printf %s "${KEYRING_PASSWORD:-keyward-ci}" >"$tmp_home/keyring-password"
chmod 600 "$tmp_home/keyring-password"
start="$tmp_home/keyring-start.sh"
cat >"$start" <<EOF
#!/usr/bin/env bash
echo "\$(date +%T.%N) gnome-keyring-daemon starting (pid \$\$)" >>'$log'
HOME='$tmp_home' gnome-keyring-daemon --foreground --unlock --components=secrets \\
    --control-directory='$control' <'$tmp_home/keyring-password' >/dev/null 2>>'$log'
rc=\$?
# (At the end of the session the log may be gone already.)
{ echo "\$(date +%T.%N) gnome-keyring-daemon exited with status \$rc\$([ \$rc -gt 128 ] && echo " (signal \$((rc - 128)))")" >>'$log'; } 2>/dev/null
EOF
chmod 700 "$start"
cat >"$tmp_home/.local/share/dbus-1/services/org.freedesktop.secrets.service" <<EOF
[D-BUS Service]
Name=org.freedesktop.secrets
Exec=/usr/bin/env bash $start
EOF

status=0
# XDG_DATA_HOME is what it would be anyway under this HOME; dbus-daemon
# needs it spelled out (it takes the home directory from the password
# database, not from HOME).
HOME="$tmp_home" XDG_DATA_HOME="$tmp_home/.local/share" \
  KEYWARD_IN_KEYRING=1 KEYWARD_KEYRING_START="$start" \
  GNOME_KEYRING_CONTROL="$control" dbus-run-session -- bash -c '
  set -euo pipefail
  export GNOME_KEYRING_CONTROL
  # The first daemon: started here (not on first use) so a test never
  # waits for activation, and its start is checked.
  "$KEYWARD_KEYRING_START" &
  for _ in $(seq 200); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
        grep -q "boolean true"; then
      break
    fi
    sleep 0.05
  done
  # Only the bus needs it: a test that gives a program another HOME must
  # not find this one'"'"'s keyrings through it.
  unset KEYWARD_KEYRING_START XDG_DATA_HOME
  "$@"' with-keyring "$@" || status=$?

starts=$(grep -c "gnome-keyring-daemon starting" "$log" || true)
if [ "${starts:-0}" -gt 1 ]; then
  echo "with-keyring: gnome-keyring-daemon died and was restarted $((starts - 1)) time(s); its log:" >&2
  cat "$log" >&2
fi
exit "$status"
