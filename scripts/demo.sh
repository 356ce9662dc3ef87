#!/usr/bin/env bash
# make demo: runs Capture, the Router, Fulfillment and Alerting on the dev
# environment, publishes the Berg&Beutel demo stream, lets a simulated WMS and
# carrier answer pick lists and parcels, waits until it is processed, writes the
# labels (ZPL, PDF), delivery notes and pick lists to .oms/demo/fulfillment/ and
# prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OMS_DIR=${OMS_DIR:-$ROOT/.oms}
BIN=${OMS_BIN:-$ROOT/.build/debug}
ORDERS=${DEMO_ORDERS:-40}
# shellcheck disable=SC1091
set -a; . "$OMS_DIR/dev.env"; set +a
export OMS_LOG_LEVEL=warning
psql_q() { psql "$OMS_DATABASE_URL" -tAqc "$1"; }

before_orders=$(psql_q "SELECT count(*) FROM capture.orders")
demo_started=$(psql_q "SELECT now()")
before_dead=$(psql_q "SELECT count(*) FROM alerting.dead_letters")

OMS_HTTP_PORT=${DEMO_CAPTURE_PORT:-9401} "$BIN/oms-capture" >"$OMS_DIR/demo-capture.log" 2>&1 &
capture_pid=$!
OMS_HTTP_PORT=${DEMO_ALERTING_PORT:-9402} "$BIN/oms-alerting" >"$OMS_DIR/demo-alerting.log" 2>&1 &
alerting_pid=$!
OMS_HTTP_PORT=${DEMO_ROUTER_PORT:-9403} "$BIN/oms-router" >"$OMS_DIR/demo-router.log" 2>&1 &
router_pid=$!
OMS_HTTP_PORT=${DEMO_FULFILLMENT_PORT:-9404} "$BIN/oms-fulfillment" >"$OMS_DIR/demo-fulfillment.log" 2>&1 &
fulfillment_pid=$!
OMS_HTTP_PORT=${DEMO_BILLING_PORT:-9405} "$BIN/oms-billing" >"$OMS_DIR/demo-billing.log" 2>&1 &
billing_pid=$!
OMS_HTTP_PORT=${DEMO_NOTIFIER_PORT:-9407} "$BIN/oms-notifier" >"$OMS_DIR/demo-notifier.log" 2>&1 &
notifier_pid=$!
# Returns with its portal; it keeps running after the demo (make dev-down stops it) so that the portal can be tried.
portal_port=${DEMO_PORTAL_PORT:-8095}
if [ -f "$OMS_DIR/demo-returns.pid" ]; then kill "$(cat "$OMS_DIR/demo-returns.pid")" 2>/dev/null || true; sleep 0.5; fi
[ -s "$OMS_DIR/portal-secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$OMS_DIR/portal-secret"
OMS_HTTP_PORT=${DEMO_RETURNS_PORT:-9406} OMS_RETURNS_PORTAL_PORT=$portal_port OMS_RETURNS_PORTAL_SECRET=$(cat "$OMS_DIR/portal-secret") \
    OMS_RETURNS_UPLOAD_DIR="$OMS_DIR/return-photos" OMS_RETURNS_PORTAL_SECURE_COOKIES=false \
    nohup "$BIN/oms-returns" >"$OMS_DIR/demo-returns.log" 2>&1 &
echo $! >"$OMS_DIR/demo-returns.pid"
trap 'kill $capture_pid $alerting_pid $router_pid $fulfillment_pid $billing_pid $notifier_pid ${wms_pid:-} 2>/dev/null || true' EXIT
before_invoices=$(psql_q "SELECT count(*) FROM billing.documents")
before_parcels=$(psql_q "SELECT count(*) FROM fulfillment.parcels")
before_fo=$(psql_q "SELECT count(*) FROM fulfillment.fulfillment_orders")

# The warehouse's WMS and the carriers, simulated: they answer pick lists and packed parcels.
"$BIN/oms-bench" simulate-warehouse --idle-seconds 8 --max-seconds 150 >"$OMS_DIR/demo-wms.log" 2>&1 &
wms_pid=$!

"$BIN/oms-bench" publish-demo --orders "$ORDERS" --start "$before_orders"

expected_orders=$((before_orders + ORDERS + 6))
expected_dead=$((before_dead + 3))
for _ in $(seq 1 120); do
    orders=$(psql_q "SELECT count(*) FROM capture.orders")
    dead=$(psql_q "SELECT count(*) FROM alerting.dead_letters")
    released=$(psql_q "SELECT count(*) FROM capture.audit_trail WHERE action = 'Order.Released'")
    unrouted=$(psql_q "SELECT count(*) FROM capture.orders c WHERE c.status = 'accepted' AND NOT EXISTS (SELECT 1 FROM router.orders r WHERE r.order_id = c.order_id AND r.status <> 'waiting')")
    if [ "$orders" -ge "$expected_orders" ] && [ "$dead" -ge "$expected_dead" ] && [ "$released" -ge 1 ] && [ "$unrouted" -eq 0 ]; then break; fi
    sleep 0.5
done
# Fulfillment: every fulfillment order of this run picked, packed and confirmed by the simulated carrier.
for _ in $(seq 1 240); do
    open_fo=$(psql_q "SELECT count(*) FROM fulfillment.fulfillment_orders WHERE status IN ('received', 'waved', 'packed')")
    router_fo=$(psql_q "SELECT count(*) FROM router.fulfillment_orders WHERE status = 'released' AND warehouse_id IS NOT NULL")
    known_fo=$(psql_q "SELECT count(*) FROM fulfillment.fulfillment_orders WHERE warehouse_id IS NOT NULL")
    if [ "$open_fo" -eq 0 ] && [ "$known_fo" -gt 0 ] && [ "$router_fo" -eq 0 ]; then break; fi
    sleep 0.5
done
wait $wms_pid 2>/dev/null || true
wms_summary=$(tail -1 "$OMS_DIR/demo-wms.log")
docs="$OMS_DIR/demo/fulfillment"
mkdir -p "$docs"
for fo in $(psql_q "SELECT fulfillment_order_id FROM fulfillment.fulfillment_orders WHERE warehouse_id IS NOT NULL AND status NOT IN ('received', 'waved') ORDER BY 1 OFFSET $before_fo"); do
    "$BIN/omsctl" fulfillment documents "$fo" --out "$docs" >/dev/null
done
for wave in $(psql_q "SELECT wave_id FROM fulfillment.waves ORDER BY created_at, wave_id"); do
    "$BIN/omsctl" wave show "$wave" --pdf "$docs/pick-list-$wave.pdf" >/dev/null
done
# Billing: an invoice for every shipped warehouse fulfillment order of this run.
for _ in $(seq 1 60); do
    shipped=$(psql_q "SELECT count(*) FROM fulfillment.fulfillment_orders WHERE status IN ('shipped', 'delivered')")
    invoiced=$(psql_q "SELECT count(*) FROM billing.documents")
    [ "$invoiced" -ge "$shipped" ] && break
    sleep 0.5
done
# A real return through oms-returns: customer service asks for the first line of the first invoiced consumer order,
# the warehouse receives it as new (grade A), the unit goes back to the Router's stock and Billing issues the credit note.
refund_order=$(psql_q "SELECT d.order_id FROM billing.documents d JOIN returns.shipments s ON s.order_id = d.order_id JOIN returns.orders o ON o.order_id = d.order_id WHERE d.type_code = '380' AND d.issued_at >= '$demo_started' AND o.data->>'customerType' = 'b2c' ORDER BY d.number LIMIT 1")
before_notes=$(psql_q "SELECT count(*) FROM billing.documents WHERE type_code = '381'")
demo_rma=""
if [ -n "$refund_order" ]; then
    refund_line=$(psql_q "SELECT l->>'lineId' FROM returns.shipments, json_array_elements(lines) l WHERE order_id = '$refund_order' ORDER BY 1 LIMIT 1")
    demo_rma=$("$BIN/omsctl" return request "$refund_order" --line "$refund_line:1:changed-mind" --by demo --wait 30 2>/dev/null | grep -oE 'R-[0-9A-Z]{7,14}' | head -1 || true)
    if [ -n "$demo_rma" ]; then
        printf '%s\n' "{\"specversion\":\"1.0\",\"id\":\"demo-received-$demo_rma\",\"source\":\"wms/berg-und-beutel\",\"type\":\"Return.Received\",\"subject\":\"$refund_order\",\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"datacontenttype\":\"application/json\",\"data\":{\"rma\":\"$demo_rma\",\"warehouseId\":\"A\",\"lines\":[{\"lineId\":\"$refund_line\",\"quantity\":1,\"grade\":\"A\",\"notes\":\"originalverpackt\"}]}}" \
            | kcat -P -b "$OMS_KAFKA_BROKERS" -t warehouse.events -k "$refund_order" 2>/dev/null || true
        for _ in $(seq 1 60); do
            [ "$(psql_q "SELECT count(*) FROM billing.documents WHERE type_code = '381'")" -gt "$before_notes" ] && break
            sleep 0.5
        done
    fi
fi
# An order to try the portal with: a shipped consumer order with nothing returned yet.
try_order=$(psql_q "SELECT o.order_id || ' ' || (o.data->'shipTo'->>'email') || ' ' || (o.data->'shipTo'->>'postalCode') FROM returns.orders o WHERE o.data->>'customerType' = 'b2c' AND EXISTS (SELECT 1 FROM returns.shipments s WHERE s.order_id = o.order_id) AND NOT EXISTS (SELECT 1 FROM returns.returns r WHERE r.order_id = o.order_id) ORDER BY o.order_id LIMIT 1")
bills="$OMS_DIR/demo/billing"
mkdir -p "$bills"
for number in $(psql_q "SELECT number FROM billing.documents ORDER BY number OFFSET $before_invoices"); do
    "$BIN/omsctl" invoice show "$number" --xml "$bills/$number.xml" --pdf "$bills/$number.pdf" >/dev/null
done
month=$(date -u +%Y-%m)
"$BIN/omsctl" billing export --period "$month" --format datev --output "$bills/EXTF_Buchungsstapel_$month.csv" >/dev/null 2>&1 || true
"$BIN/omsctl" billing export --period "$month" --format csv --output "$bills/bookings_$month.csv" >/dev/null 2>&1 || true
invoice_list=$(psql_q "SELECT coalesce(string_agg(number || ' ' || CASE type_code WHEN '381' THEN 'credit note for ' || preceding_invoice || ',' WHEN '386' THEN 'deposit,' ELSE 'invoice,' END || ' ' || customer_id || ' ' || order_id || ' net ' || to_char(net / 100.0, 'FM999990.00') || ' gross ' || to_char(gross / 100.0, 'FM999990.00') || ' ' || currency || ' [' || (SELECT string_agg((b->>'category') || ' ' || to_char((b->>'rateBasisPoints')::int / 100.0, 'FM990.00') || ' %: tax ' || to_char((b->>'tax')::bigint / 100.0, 'FM999990.00'), ', ') FROM json_array_elements(breakdown) b) || ']', E'\n                                   ' ORDER BY number), 'none') FROM (SELECT * FROM billing.documents ORDER BY issued_at DESC, number DESC LIMIT 6) d")
credit_notes=$(psql_q "SELECT count(*) FROM billing.documents WHERE type_code = '381'")
receivables=$(psql_q "SELECT count(*) FILTER (WHERE open > 0) || ' open, ' || to_char(coalesce(sum(open), 0) / 100.0, 'FM9999990.00') || ' EUR' FROM billing.receivables")
invoice_count=$(psql_q "SELECT count(*) FROM billing.documents")
archive=$("$BIN/omsctl" archive verify 2>&1 | tail -1)
waves=$(psql_q "SELECT count(*) || ' (' || coalesce(string_agg(DISTINCT method, ', '), '-') || ')' FROM fulfillment.waves")
route_gain=$(psql_q "SELECT coalesce(round(100.0 * (1 - sum(tour_length_dm)::numeric / nullif(sum(bin_order_dm), 0)), 1), 0) FROM fulfillment.waves")
fo_status=$(psql_q "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM (SELECT status, count(*) n FROM fulfillment.fulfillment_orders GROUP BY status) s")
parcels=$(psql_q "SELECT count(*) FROM fulfillment.parcels")
ssccs=$(psql_q "SELECT string_agg(sscc, ', ' ORDER BY sscc) FROM (SELECT sscc FROM fulfillment.parcels ORDER BY created_at DESC, sscc LIMIT 3) p")
cn23=$(psql_q "SELECT coalesce(string_agg(DISTINCT f.order_id || ' → ' || (f.data->'shipTo'->>'city') || ' ' || (f.data->'shipTo'->>'country') || ' (SSCC ' || p.sscc || ', ' || (p.customs->>'reason') || ')', '; '), 'none') FROM fulfillment.parcels p JOIN fulfillment.fulfillment_orders f USING (fulfillment_order_id) WHERE p.customs IS NOT NULL AND p.fulfillment_order_id IN (SELECT fulfillment_order_id FROM fulfillment.parcels WHERE customs IS NOT NULL ORDER BY created_at DESC LIMIT 1)")
tracking=$(psql_q "SELECT coalesce(string_agg(carrier || ' ' || tracking_number, ', '), 'none') FROM (SELECT carrier, tracking_number FROM fulfillment.parcels WHERE tracking_number IS NOT NULL ORDER BY shipped_at DESC LIMIT 3) t")
short=$(psql_q "SELECT coalesce(string_agg(subject || ': ' || reason, '; '), 'none') FROM (SELECT subject, reason FROM router.audit_trail WHERE action = 'FulfillmentOrder.ShortPicked' ORDER BY id DESC LIMIT 1) a")
ful_events=$(psql_q "SELECT coalesce(string_agg(t || ' ' || n, ', ' ORDER BY t), 'none') FROM (SELECT headers->>'ce_type' t, count(*) n FROM fulfillment.outbox GROUP BY 1) e")
doc_count=$(find "$docs" -type f | wc -l)
example_fo=$(psql_q "SELECT coalesce(max(fulfillment_order_id), '') FROM fulfillment.parcels WHERE customs IS NOT NULL")
example_label=$(find "$docs" -name "label-*.pdf" -print -quit)
metrics=$(curl -s "localhost:${DEMO_CAPTURE_PORT:-9401}/metrics" || true)
duplicates=$(echo "$metrics" | awk '/^oms_messages_duplicate_total/ {print $2}')
by_status=$(psql_q "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM (SELECT status, count(*) n FROM capture.orders GROUP BY status) s")
held=$(psql_q "SELECT coalesce(string_agg(order_id || ' (' || array_to_string(hold_reasons, ',') || ')', ', '), 'none') FROM capture.orders WHERE status = 'on_hold'")
rejected=$(psql_q "SELECT coalesce(string_agg(o.order_id || ': ' || c.message, '; '), 'none') FROM capture.orders o JOIN capture.order_checks c USING (order_id) WHERE o.status = 'rejected' AND c.effect = 'reject'")
events=$(psql_q "SELECT string_agg(t || ' ' || n, ', ' ORDER BY t) FROM (SELECT headers->>'ce_type' t, count(*) n FROM capture.outbox WHERE topic = 'oms.orders' GROUP BY 1) e")
notifications=$(psql_q "SELECT coalesce(string_agg(t || ' ' || n, ', ' ORDER BY t), 'none') FROM (SELECT headers->>'ce_type' t, count(*) n FROM (SELECT headers, topic FROM capture.outbox UNION ALL SELECT headers, topic FROM router.outbox) o WHERE topic = 'oms.notifications' GROUP BY 1) e")
router_events=$(psql_q "SELECT coalesce(string_agg(t || ' ' || n, ', ' ORDER BY t), 'none') FROM (SELECT headers->>'ce_type' t, count(*) n FROM router.outbox GROUP BY 1) e")
routed=$(psql_q "SELECT coalesce(string_agg(status || ' ' || n, ', ' ORDER BY status), 'none') FROM (SELECT status, count(*) n FROM router.orders GROUP BY status) s")
fulfillment=$(psql_q "SELECT coalesce(string_agg(w || ' ' || n, ', ' ORDER BY w), 'none') FROM (SELECT coalesce(warehouse_id, 'supplier ' || supplier_id) w, count(*) n FROM router.fulfillment_orders WHERE status <> 'cancelled' GROUP BY 1) f")
club=$(psql_q "SELECT coalesce(max(order_id), '') FROM router.orders WHERE order_id LIKE 'BB-CLUB-%'")
stock=$(psql_q "SELECT string_agg(sku || '@' || warehouse_id || ' ' || (on_hand - reserved) || '/' || on_hand, ', ' ORDER BY sku, warehouse_id) FROM router.stock WHERE sku IN ('TENT-2P', 'STOVE-GAS')")
b2b_order=$(psql_q "SELECT coalesce(max(order_id), '') FROM capture.orders WHERE customer_id = 'BC-DEMO'")
first_order=$(psql_q "SELECT 'BB-' || (100000 + $before_orders)")
repeats=$(psql_q "SELECT count(*) FROM capture.audit_trail WHERE action = 'Order.Created.Repeated'")

sleep 2  # the notifier's last events
timeline=$(psql_q "SELECT count(*) || ' events of ' || count(DISTINCT order_id) || ' orders' FROM notifier.timeline")
kill -TERM $capture_pid $alerting_pid $router_pid $fulfillment_pid $billing_pid $notifier_pid 2>/dev/null || true
wait $capture_pid $alerting_pid $router_pid $fulfillment_pid $billing_pid $notifier_pid 2>/dev/null || true
trap - EXIT

echo
echo "=== Berg&Beutel demo: summary ==="
echo "orders captured (PostgreSQL)       $((orders - before_orders)) this run, $orders in all: $by_status"
echo "  held                             $held"
echo "  rejected                         $rejected"
echo "events on oms.orders               $events"
echo "events on oms.notifications        $notifications"
echo "Router: orders                     $routed"
echo "  events                           $router_events"
echo "  fulfillment orders               $fulfillment"
echo "  available/on hand                $stock"
echo "Fulfillment: orders                $fo_status"
echo "  waves (pick lists)               $waves; tours $route_gain % shorter than walking by bin name"
echo "  short pick (Router re-routed)    $short"
echo "  parcels                          $((parcels - before_parcels)) this run, $parcels in all; SSCC e.g. $ssccs"
echo "  CN23                             $cn23"
echo "  tracking                         $tracking"
echo "  events                           $ful_events"
echo "  simulated WMS/carrier            $wms_summary"
echo "  documents                        $doc_count files in $docs (labels as ZPL + PDF, delivery notes, pick lists)"
echo "Billing: documents                $((invoice_count - before_invoices)) this run ($((credit_notes - before_notes)) credit note for a demo return), $invoice_count in all (EN 16931 XML and PDF, the month's DATEV and CSV export in $bills); the newest:"
echo "                                   $invoice_list"
echo "  receivables                      $receivables (on-account invoices)"
echo "  archive                          $archive"
echo "Returns: demo return              ${demo_rma:-none} of $refund_order: $(psql_q "SELECT coalesce(string_agg(line_id || ' ' || sku || ' grade ' || coalesce(grade, '?') || ' → ' || coalesce(disposition, 'not received'), ', '), 'none') FROM returns.return_lines WHERE request_id = (SELECT request_id FROM returns.returns WHERE rma = '$demo_rma')"); refund $(psql_q "SELECT coalesce(string_agg(refund_id || ' ' || to_char(total / 100.0, 'FM999990.00') || ' ' || currency, ', '), 'none') FROM returns.refunds WHERE request_id = (SELECT request_id FROM returns.returns WHERE rma = '$demo_rma')"), credit note $(psql_q "SELECT coalesce(max(number), 'none') FROM billing.documents WHERE type_code = '381' AND order_id = '$refund_order'")"
echo "  portal                           http://127.0.0.1:$portal_port/  (keeps running until make dev-down)"
[ -n "$try_order" ] && echo "  try it with                      order ${try_order%% *}, e-mail $(echo "$try_order" | cut -d' ' -f2) (or postal code ${try_order##* })"
echo "Notifier: timeline                $timeline (omsctl order show prints them with the shipments, invoices and returns; e-mail and webhooks are off in the demo: no OMS_SMTP_HOST, no endpoints)"
echo "duplicates skipped                 ${duplicates:-0} (same event id) + $repeats (same content, other id)"
echo "dead letters                       $((dead - before_dead)) this run, $dead in all"
"$BIN/omsctl" dlq list --limit 10 | sed 's/^/  /'
echo
echo "Look further:"
echo "  source $OMS_DIR/dev.env"
echo "  omsctl order show $first_order"
[ -n "$club" ] && echo "  omsctl order show $club           # a split order: shipments with tracking, the back-order, invoices, the return"
[ -n "$b2b_order" ] && echo "  omsctl order approve $b2b_order --by BC-DEMO-CHEF      # the buyer's approver releases the B2B order"
echo "  omsctl dlq show \$(omsctl dlq list --limit 1 --json | sed -E 's/.*\"id\":([0-9]+).*/\\1/')"
[ -n "$example_fo" ] && echo "  omsctl fulfillment show $example_fo      # lines, pick list, parcels with SSCC, label status, tracking"
[ -n "$example_label" ] && echo "  pdftotext -layout $example_label -"
echo "  kcat -b \$OMS_KAFKA_BROKERS -C -t oms.orders -e -q | head -1"
echo "  omsctl invoice show $(psql_q "SELECT coalesce(max(number), 'RE-…') FROM billing.documents WHERE type_code = '381'")   # the demo return's credit note; --pdf FILE writes it"
[ -n "$demo_rma" ] && echo "  omsctl return show $demo_rma      # the demo return: lines, inspection, disposition, refund, timeline"
echo "  omsctl return list --open"
echo "  omsctl billing export --period $(date -u +%Y-%m) --format csv   # the month's bookings; --format datev for the tax adviser"
echo "  make dev-down      # stop PostgreSQL and the dev broker"
