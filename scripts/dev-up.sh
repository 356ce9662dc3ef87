#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster and the dev broker under $OMS_DIR
# (default .oms/), writes $OMS_DIR/dev.env and migrates. Safe to call twice.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OMS_DIR=${OMS_DIR:-$ROOT/.oms}
BIN=${OMS_BIN:-$ROOT/.build/debug}
PARTITIONS=${OMS_DEV_PARTITIONS:-12}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")}
mkdir -p "$OMS_DIR"
OMS_DIR=$(cd "$OMS_DIR" && pwd)

# The server runs as `postgres` when we are root; if that user cannot reach
# $OMS_DIR (e.g. a checkout in a private directory), its files live in a
# directory of its own, recorded in $OMS_DIR/pgroot so dev-down finds it.
if [ ! -f "$OMS_DIR/pgroot" ]; then
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$OMS_DIR"; then
        PGROOT=$(mktemp -d /tmp/oms-pg.XXXXXX)
        chmod 755 "$PGROOT"
    else
        PGROOT=$OMS_DIR
    fi
    echo "$PGROOT" >"$OMS_DIR/pgroot"
fi
PGROOT=$(cat "$OMS_DIR/pgroot")
PGDATA=$PGROOT/pgdata
SOCKDIR=$PGROOT/pgsock

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# --- PostgreSQL ---------------------------------------------------------------
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    rm -rf "$PGDATA"
    mkdir -p "$PGDATA" "$SOCKDIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA" "$SOCKDIR"
    # Byte-order collation: every key column (order ids, SKUs, event ids) is compared in
    # B-tree indexes; with C.UTF-8 each comparison went through strcoll (measured: ~15 %
    # of PostgreSQL's CPU per order). Character classes (lower()) stay UTF-8.
    as_postgres "$PGBIN/initdb" -D "$PGDATA" -U oms --auth=trust -E UTF8 --locale=C.UTF-8 --lc-collate=C >"$OMS_DIR/initdb.log" 2>&1
    PGPORT=$(free_port)
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$SOCKDIR'
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 256MB
# Fewer checkpoints, compressed full-page images: the production settings of deploy/README.md. Measured with
# oms-bench pipeline (10,000 orders, three runs each in turn): PostgreSQL CPU per order -16 %, WAL -9 %.
max_wal_size = 8GB
checkpoint_timeout = 15min
wal_compression = lz4
default_toast_compression = lz4
CONF
    echo "$PGPORT" >"$OMS_DIR/pgport"
fi
PGPORT=$(cat "$OMS_DIR/pgport")
if ! as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start >/dev/null
fi
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U oms -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='oms'" | grep -q 1 \
    || "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U oms oms

# --- dev broker -----------------------------------------------------------------
if [ -f "$OMS_DIR/devkafka.pid" ] && kill -0 "$(cat "$OMS_DIR/devkafka.pid")" 2>/dev/null; then
    :
else
    rm -f "$OMS_DIR/bootstrap"
    nohup "$BIN/oms-devkafka" --partitions "$PARTITIONS" --bootstrap-file "$OMS_DIR/bootstrap" \
        >"$OMS_DIR/devkafka.log" 2>&1 &
    echo $! >"$OMS_DIR/devkafka.pid"
    for _ in $(seq 1 100); do [ -s "$OMS_DIR/bootstrap" ] && break; sleep 0.1; done
    [ -s "$OMS_DIR/bootstrap" ] || { echo "dev-up: oms-devkafka did not start, see $OMS_DIR/devkafka.log" >&2; exit 1; }
fi
BROKERS=$(cat "$OMS_DIR/bootstrap")

cat >"$OMS_DIR/dev.env" <<ENV
# Written by make dev-up; source it to use omsctl, the workers and kcat here.
export OMS_DATABASE_URL='postgresql://oms@127.0.0.1:$PGPORT/oms'
export OMS_KAFKA_BROKERS='$BROKERS'
# The dev broker answers an empty fetch only after fetch.wait.max.ms; keep it short.
export OMS_KAFKA_FETCH_WAIT_MAX_MS=10
export OMS_KAFKA_SESSION_TIMEOUT_MS=6000
export OMS_KAFKA_HEARTBEAT_INTERVAL_MS=500
export OMS_LOG_LEVEL=\${OMS_LOG_LEVEL:-info}
export OMS_CONFIG_DIR='$ROOT/config'
export OMS_MIGRATIONS_DIR='$ROOT/deploy/migrations'
export PATH='$BIN':\$PATH
ENV

# shellcheck disable=SC1091
. "$OMS_DIR/dev.env"
"$BIN/omsctl" migrate >/dev/null
echo "dev environment up: PostgreSQL 127.0.0.1:$PGPORT, broker $BROKERS (source $OMS_DIR/dev.env)"
