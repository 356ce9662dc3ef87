#!/usr/bin/env bash
# The return portal's page render times under wrk (Debian's wrk on loopback): the lookup page and the
# list page of a shipped order (with its session), 30 s each. Run by make bench-returns after the
# returns benchmark has filled the replicas; needs the environment of dev.env.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${OMS_BIN:-$(pwd)/.build/release}
PORT=${BENCH_PORTAL_PORT:-18095}
SECONDS_EACH=${BENCH_PORTAL_SECONDS:-30}
upload_dir=$(mktemp -d)
OMS_CONFIG_DIR=${OMS_CONFIG_DIR:-$(pwd)/config} OMS_LOG_LEVEL=warning OMS_RETURNS_PORTAL_PORT=$PORT \
    OMS_RETURNS_PORTAL_SECRET=bench-secret-0123456789abcdef0123456789 OMS_RETURNS_UPLOAD_DIR="$upload_dir" \
    OMS_RETURNS_PORTAL_SECURE_COOKIES=false "$BIN/oms-returns" >"$upload_dir/returns.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$upload_dir"' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
order=$(psql "$OMS_DATABASE_URL" -tAqc "SELECT order_id || ' ' || postal_code FROM returns.orders o WHERE EXISTS (SELECT 1 FROM returns.shipments s WHERE s.order_id = o.order_id) ORDER BY order_id LIMIT 1")
jar="$upload_dir/cookies"
page=$(curl -s -c "$jar" "http://127.0.0.1:$PORT/")
csrf=$(printf '%s' "$page" | sed -nE 's/.*name="csrf" value="([^"]+)".*/\1/p' | head -1)
curl -s -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf=$csrf" --data-urlencode "order=${order%% *}" --data-urlencode "postalCode=${order##* }" "http://127.0.0.1:$PORT/lookup"
cookie=$(awk '$6 == "oms_returns_session" { print $6 "=" $7 }' "$jar")
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$PORT/order")
[ "$status" = 200 ] || { echo "bench-portal: the list page of ${order%% *} answered $status" >&2; exit 1; }
echo "portal: lookup page (GET /), $SECONDS_EACH s, 2 threads, 16 connections"
wrk -t2 -c16 -d"${SECONDS_EACH}s" --latency "http://127.0.0.1:$PORT/" | sed -n '/Latency Distribution/,/Transfer/p'
echo "portal: list page of order ${order%% *} (GET /order with its session: order, shipments, returns and catalog read from PostgreSQL)"
wrk -t2 -c16 -d"${SECONDS_EACH}s" --latency -H "Cookie: $cookie" "http://127.0.0.1:$PORT/order" | sed -n '/Latency Distribution/,/Transfer/p'
