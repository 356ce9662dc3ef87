#!/usr/bin/env bash
# make bench-notifier: (1) webhook deliveries per second from oms-notifier to a local receiver (Python's threading
# HTTP server on loopback answering 204), from BENCH_DELIVERIES pending deliveries written straight into
# notifier.webhook_deliveries (the worker's part, consuming and recording, is measured by the stage benchmarks);
# the rate is deliveries / (last delivered_at − first delivered_at). (2) The order status API under wrk on loopback,
# 30 s each: one order's document, and a customer's order list, over BENCH_STATUS_ORDERS documents.
# Needs the environment of dev.env (OMS_DATABASE_URL, OMS_KAFKA_BROKERS).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${OMS_BIN:-$ROOT/.build/release}
DELIVERIES=${BENCH_DELIVERIES:-5000}
ORDERS=${BENCH_STATUS_ORDERS:-20000}
SECONDS_EACH=${BENCH_STATUS_SECONDS:-30}
API_PORT=${BENCH_STATUS_PORT:-18096}
HOOK_PORT=${BENCH_HOOK_PORT:-18097}
work=$(mktemp -d)
psql_q() { psql "$OMS_DATABASE_URL" -tAqc "$1"; }
cat >"$work/receiver.py" <<'PY'
import sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
python3 "$work/receiver.py" "$HOOK_PORT" &
receiver=$!
cp -r "$ROOT/config" "$work/config"
cat >"$work/config/webhooks.json" <<JSON
{"validFrom": "2026-01-01T00:00:00Z", "endpoints": [
  {"id": "bench", "url": "http://127.0.0.1:$HOOK_PORT/hook", "types": ["*"], "secretVariable": "OMS_WEBHOOK_SECRET_BENCH"}]}
JSON
run="bench-$(date +%s)"
# The status documents and the pending deliveries (a realistic 1 KB CloudEvent body each).
psql_q "INSERT INTO notifier.order_status (order_id, customer_id, document)
        SELECT '$run-' || lpad(n::text, 6, '0'), 'C-' || (n % 2000),
               json_build_object('orderId', '$run-' || lpad(n::text, 6, '0'), 'customerId', 'C-' || (n % 2000), 'state', 'shipped', 'currency', 'EUR',
                                 'total', 4990 + n, 'placedAt', now(), 'updatedAt', now(),
                                 'lines', json_build_array(json_build_object('lineId', '1', 'sku', 'TENT-2P', 'quantity', 1)),
                                 'shipments', json_build_array(json_build_object('fulfillmentOrderId', 'FO-' || n, 'status', 'shipped',
                                     'parcels', json_build_array(json_build_object('carrier', 'DHL', 'trackingNumber', '00340434' || n)))),
                                 'backorders', '[]'::json, 'invoices', '[]'::json, 'returns', '[]'::json)
        FROM generate_series(1, $ORDERS) n" >/dev/null
psql_q "INSERT INTO notifier.webhook_deliveries (endpoint_id, event_id, event_type, order_id, body)
        SELECT 'bench', '$run-' || n, 'Shipment.Shipped', '$run-' || lpad((n % $ORDERS + 1)::text, 6, '0'),
               convert_to('{\"specversion\":\"1.0\",\"id\":\"$run-' || n || '\",\"source\":\"oms/fulfillment\",\"type\":\"Shipment.Shipped\",\"data\":{\"orderId\":\"$run-' || n || '\",\"note\":\"' || repeat('x', 800) || '\"}}', 'UTF8')
        FROM generate_series(1, $DELIVERIES) n" >/dev/null
key=$("$BIN/omsctl" api-keys create --client "$run" --all-shops | tail -1)
OMS_CONFIG_DIR="$work/config" OMS_LOG_LEVEL=warning OMS_STATUS_API_PORT=$API_PORT OMS_STATUS_API_RATE_PER_MINUTE=1000000 \
    OMS_WEBHOOK_SECRET_BENCH="whsec_$(head -c 32 /dev/urandom | base64)" "$BIN/oms-notifier" >"${BENCH_NOTIFIER_LOG:-/tmp/oms-bench-notifier.log}" 2>&1 &
notifier=$!
trap 'kill $notifier $receiver 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    [ "$(psql_q "SELECT count(*) FROM notifier.webhook_deliveries WHERE endpoint_id = 'bench' AND event_id LIKE '$run-%' AND status = 'pending'")" = 0 ] && break
    sleep 0.5
done
psql_q "SELECT 'webhooks: ' || count(*) || ' deliveries to a local receiver, ' ||
               round(count(*) / greatest(extract(epoch FROM max(delivered_at) - min(delivered_at)), 0.001))::text || ' deliveries/s (one endpoint, signed per Standard Webhooks, '
               || count(*) FILTER (WHERE status = 'delivered') || ' delivered, ' || count(*) FILTER (WHERE attempts > 1) || ' retried)'
        FROM notifier.webhook_deliveries WHERE endpoint_id = 'bench' AND event_id LIKE '$run-%'"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$API_PORT/v1/orders/x" && break; sleep 0.2; done
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "http://127.0.0.1:$API_PORT/v1/orders/$run-000042")
[ "$status" = 200 ] || { echo "bench-notifier: GET /v1/orders/$run-000042 answered $status" >&2; exit 1; }
echo "status API: GET /v1/orders/{id} over $ORDERS documents, $SECONDS_EACH s, 2 threads, 16 connections"
wrk -t2 -c16 -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $key" "http://127.0.0.1:$API_PORT/v1/orders/$run-000042" | sed -n '/Latency Distribution/,/Transfer/p'
echo "status API: GET /v1/customers/{id}/orders (10 orders of the customer), $SECONDS_EACH s"
wrk -t2 -c16 -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $key" "http://127.0.0.1:$API_PORT/v1/customers/C-42/orders?limit=10" | sed -n '/Latency Distribution/,/Transfer/p'
psql_q "DELETE FROM notifier.order_status WHERE order_id LIKE '$run-%'" >/dev/null
