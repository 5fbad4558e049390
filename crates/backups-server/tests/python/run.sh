#!/usr/bin/env bash
# The official Python SDK against a real backups-server.
#
# Creates a virtual environment (reused between runs), installs pieces-os-client==5.0.1 from
# PyPI, builds and starts backups-server on an ephemeral loopback port over temporary
# directories, and runs check_sdk.py: list, create, create-streamed and delete (BackupsApi),
# then read one backup, restore it (comparing the data directory with what was backed up),
# creation and restoration status and cancel with nothing running, backup and backup_asset with
# and without bodies built from the SDK's models (BackupApi), then the
# progress WebSocket read with the third-party `websockets` package (pinned below) during a
# create made with the SDK, then each simulated fault on every one of those calls and on a
# WebSocket handshake. Skips (exit 0, with a SKIPPED line) only when python3 is absent.
#
# Environment: CARGO_TARGET_DIR (where the binary and the venv live), BACKUPS_PY_VENV (venv
# path), BACKUPS_SERVER_BIN (use this binary instead of building one).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIPPED: Python SDK check: python3 not found"
    exit 0
fi

target="${CARGO_TARGET_DIR:-$root/target}"
venv="${BACKUPS_PY_VENV:-$target/python-sdk-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check pieces-os-client==5.0.1 \
    websockets==17.4

bin="${BACKUPS_SERVER_BIN:-}"
if [ -z "$bin" ]; then
    locked=""
    if [ -n "${CI:-}" ]; then locked="--locked"; fi
    (cd "$root" && cargo build --quiet $locked -p backups-server --bin backups-server)
    bin="$target/debug/backups-server"
fi

work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Starts the server with extra arguments; sets $pid and $port.
start_server() {
    local name="$1"; shift
    mkdir -p "$work/$name/data/nested"
    echo "database" > "$work/$name/data/db.sqlite"
    echo "settings" > "$work/$name/data/nested/settings.json"
    "$bin" --listen 127.0.0.1:0 --data "$work/$name/data" --store "$work/$name/store" \
        --port-file "$work/$name/port.txt" "$@" 2>"$work/$name/server.log" &
    pid=$!
    port=""
    for _ in $(seq 1 200); do
        if [ -s "$work/$name/port.txt" ]; then port="$(cat "$work/$name/port.txt")"; break; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "FAILED: backups-server did not start:" >&2
        cat "$work/$name/server.log" >&2
        exit 1
    fi
}

stop_server() {
    kill "$pid"
    wait "$pid" || true
    pid=""
}

# The asset fixtures of backups-models, regenerated from the SDK's models: a change of the
# generator or of the SDK that the committed files do not follow fails here.
"$venv/bin/python" "$here/asset_fixtures.py" "$work/fixtures"
if ! diff -r "$root/crates/backups-models/tests/fixtures" "$work/fixtures"; then
    echo "FAILED: crates/backups-models/tests/fixtures differ from what asset_fixtures.py writes" >&2
    echo "(regenerate them with the command in asset_fixtures.py)" >&2
    exit 1
fi

start_server normal
"$venv/bin/python" "$here/check_sdk.py" normal "$port" "$work/normal/data"
stop_server
"$bin" verify --store "$work/normal/store"

# Slowed down, so that the create's IN-PROGRESS snapshots are certainly seen.
start_server websocket --progress-delay-ms 20
"$venv/bin/python" "$here/check_sdk.py" websocket "$port"
stop_server

for fault in unauthenticated:511 outdated:505 internal-error:500; do
    start_server "${fault%%:*}" --simulate "${fault%%:*}"
    "$venv/bin/python" "$here/check_sdk.py" fault "$port" "${fault##*:}"
    stop_server
done

echo "python-sdk: 6 passed, 0 failed"
