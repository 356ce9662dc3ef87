#!/usr/bin/env bash
# Stops exactly what dev-up started under $OMS_DIR and removes its data.
set -uo pipefail
cd "$(dirname "$0")/.."
OMS_DIR=${OMS_DIR:-$(pwd)/.oms}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")}
[ -d "$OMS_DIR" ] || exit 0
# The demo's oms-returns (it keeps serving the portal after make demo).
if [ -f "$OMS_DIR/demo-returns.pid" ]; then kill "$(cat "$OMS_DIR/demo-returns.pid")" 2>/dev/null || true; fi
if [ -f "$OMS_DIR/devkafka.pid" ]; then
    pid=$(cat "$OMS_DIR/devkafka.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
fi
PGROOT=$(cat "$OMS_DIR/pgroot" 2>/dev/null || echo "$OMS_DIR")
if [ -s "$PGROOT/pgdata/PG_VERSION" ]; then
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGROOT/pgdata" -m fast -w stop >/dev/null 2>&1 || true
    else
        "$PGBIN/pg_ctl" -D "$PGROOT/pgdata" -m fast -w stop >/dev/null 2>&1 || true
    fi
fi
[ "$PGROOT" != "$OMS_DIR" ] && rm -rf "$PGROOT"
rm -rf "$OMS_DIR"
echo "dev environment down"
