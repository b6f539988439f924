# Two commands do everything on a fresh Debian machine: `make run` and
# `make test`. Everything they create lives in var/ (git ignores it).
# `make run` builds only what it runs; `make test` builds everything.

PORT ?= 8001
BIND ?= 127.0.0.1
REDIS_URL ?= redis://127.0.0.1:6379
export PORT BIND REDIS_URL

LEGACY := var/venv-legacy
MODERN := var/venv-modern
TOOLS := var/venv-tools
RUN_PACKAGES := redis-server redis-tools
PRODUCTION_PACKAGES := $(RUN_PACKAGES) nginx openssl
# The cluster's engine, and what makes stand-in images (make cluster).
DOCKER_PACKAGES := docker.io docker-compose debootstrap
TEST_PACKAGES := $(PRODUCTION_PACKAGES) chromium chromium-driver $(DOCKER_PACKAGES)
WITH_LEGACY := PATH="$(CURDIR)/$(LEGACY)/bin:$$PATH"
WITH_MODERN := PATH="$(CURDIR)/$(MODERN)/bin:$$PATH"
# The modern port and the tools run on the machine's own CPython, 3.10 or newer.
CURRENT_PYTHONS := 3.13 3.12 3.11 3.10

.PHONY: run run-modern run-production run-modern-production test compare screenshots \
	setup-legacy setup-modern packages migrate check-py35 assets
.DELETE_ON_ERROR:

# Two runworkers: the benchmark's one room of 10 is carried at 200 msg/s with
# two and at 100 with one (docs/benchmarks.md). RUNWORKERS=1 is the post's.
RUNWORKERS ?= 2
# Each runworker keeps its database connection for 60 s rather than opening
# one per message (deviation C18, as the compose file): at 100 msg/s, p50
# 10.5 ms against 15.6 and 0.68 CPU s per 1,000 deliveries against 0.79
# (docs/benchmarks.md, `+persistent`). CONN_MAX_AGE=0 is the post's.
CONN_MAX_AGE ?= 60
# Each stack's layer tells `make trace` what it does (CHANNEL_TRACE=1);
# CHANNEL_TRACE=0 runs the layer without the trace (asgi_redis's, with C20).
CHANNEL_TRACE ?= 1
run: setup-legacy migrate
	@echo "Serving http://127.0.0.1:$(PORT)/chat/ (Ctrl-C stops Redis, daphne and the runworkers)"
	$(WITH_LEGACY) CHANNEL_TRACE=$(CHANNEL_TRACE) CONN_MAX_AGE=$(CONN_MAX_AGE) honcho start -f Procfile -c worker=$(RUNWORKERS) web worker redis

# The modern port on its own port, on the same database and Redis server
# (its own Redis database number, so the two stacks never share a group).
MODERN_PORT ?= 8002
MODERN_REDIS_URL ?= redis://127.0.0.1:6379/1
run-modern: setup-modern
	cd modern && ../$(MODERN)/bin/python manage.py migrate --noinput
	@echo "Serving http://127.0.0.1:$(MODERN_PORT)/chat/ (Ctrl-C stops Redis and daphne)"
	$(WITH_MODERN) PORT=$(MODERN_PORT) REDIS_URL=$(MODERN_REDIS_URL) CHANNEL_TRACE=$(CHANNEL_TRACE) honcho start -f modern/Procfile web redis

# Production mode (DEBUG=0, SECRET_KEY from the environment): collectstatic,
# then the whole Procfile, nginx with TLS in front (ops/proxy) included, on
# https://127.0.0.1:PROXY_PORT/.
PROXY_PORT ?= 8443
run-production: setup-legacy migrate
	setup/install-system-packages $(PRODUCTION_PACKAGES)
	DEBUG=0 STATIC_ROOT=$(CURDIR)/var/static $(LEGACY)/bin/python manage.py collectstatic --noinput -v0
	DEBUG=0 STATIC_ROOT=$(CURDIR)/var/static PROXY_PORT=$(PROXY_PORT) UPSTREAM=$(BIND):$(PORT) \
		CONN_MAX_AGE=$(CONN_MAX_AGE) $(WITH_LEGACY) honcho start -f Procfile

run-modern-production: setup-modern
	setup/install-system-packages $(PRODUCTION_PACKAGES)
	cd modern && DEBUG=0 ../$(MODERN)/bin/python manage.py migrate --noinput
	cd modern && DEBUG=0 STATIC_ROOT=$(CURDIR)/var/static-modern ../$(MODERN)/bin/python manage.py collectstatic --noinput -v0
	DEBUG=0 STATIC_ROOT=$(CURDIR)/var/static-modern PROXY_PORT=$(PROXY_PORT) PORT=$(MODERN_PORT) UPSTREAM=$(BIND):$(MODERN_PORT) \
		REDIS_URL=$(MODERN_REDIS_URL) $(WITH_MODERN) honcho start -f modern/Procfile

test: setup-legacy setup-modern $(TOOLS)/.installed check-py35
	setup/install-system-packages $(TEST_PACKAGES)
	$(WITH_LEGACY) python -m pytest tests
	cd modern && ../$(MODERN)/bin/python -m pytest tests
	$(MAKE) conformance
	$(TOOLS)/bin/python -m pytest blackbox
	$(TOOLS)/bin/python -m pytest bench
	$(TOOLS)/bin/python -m pytest tracing

# One line per hop through the channel layer of the stack `make run` (or,
# with STACK=modern, `make run-modern`) started, until Ctrl-C; a line per
# message at the end. TRACE_ARGS='--seconds 30' and the like (tracing/).
STACK ?= legacy
TRACE_ARGS ?= --summary
.PHONY: trace trace-diagram
trace: $(TOOLS)/.installed
	MODERN_REDIS_URL=$(MODERN_REDIS_URL) $(TOOLS)/bin/python -m tracing --stack $(STACK) $(TRACE_ARGS)

# docs/trace-legacy.svg and docs/trace-modern.svg: one real message through
# each stack, drawn from its trace.
trace-diagram: setup-legacy setup-modern $(TOOLS)/.installed
	$(TOOLS)/bin/python -m tracing.diagram

# The stack over several containers (docker-compose.yml; STACK=modern for
# modern/docker-compose.yml) behind nginx on https://127.0.0.1:CLUSTER_PORT/,
# in production mode, until Ctrl-C, which stops and removes it all. Starts
# a Docker engine if none runs; builds stand-in images when no registry
# answers (setup/stand-in-images).
CLUSTER_PORT ?= 8443
.PHONY: cluster
cluster: $(TOOLS)/.installed
	setup/install-system-packages $(DOCKER_PACKAGES)
	$(TOOLS)/bin/python -m harness.cluster $(STACK) $(CLUSTER_PORT)

# Every stack under every load (bench/run.py), then docs/benchmarks.md and
# docs/bench-load.png (bench/report.py), and docs/scaling.md: what a room
# of 1,000 and a site of 100,000 would need (bench/scaling.py). About 12
# minutes a repeat; BENCH_ARGS='--repeat 3' for the spread, '--loads quiet,300' for fewer.
BENCH_ARGS ?=
.PHONY: bench bench-cluster
bench: setup-legacy setup-modern $(TOOLS)/.installed
	$(TOOLS)/bin/python -m bench.run $(BENCH_ARGS)
	$(TOOLS)/bin/python -m bench.report
	$(TOOLS)/bin/python -m bench.scaling

# make cluster's containers under three loads beside the same processes
# without containers, 3 repeats (about 20 minutes): the report's "On
# several containers" section.
bench-cluster: setup-legacy setup-modern $(TOOLS)/.installed
	setup/install-system-packages $(DOCKER_PACKAGES)
	$(TOOLS)/bin/python -m bench.run --systems reference,legacy-2x2,legacy-cluster,modern-x2,modern-cluster \
		--loads quiet,busy,300 --repeat 3 --out artefacts/bench/cluster
	$(TOOLS)/bin/python -m bench.report

# Every scenario on both stacks; writes artefacts/comparison.md and .html,
# copies the Markdown to docs/comparison.md, prints the table.
compare: setup-legacy setup-modern $(TOOLS)/.installed
	$(TOOLS)/bin/python -m pytest blackbox/test_scenarios.py
	cp artefacts/comparison.md docs/comparison.md

# The picture in the README: a room mid-conversation on the legacy stack.
screenshots: setup-legacy $(TOOLS)/.installed
	setup/install-system-packages $(TEST_PACKAGES)
	STACKS=legacy $(TOOLS)/bin/python -m pytest blackbox/test_browser.py -k two_pages
	cp artefacts/legacy-room.png docs/screenshot-room.png

setup-legacy: $(LEGACY)/.installed packages
setup-modern: $(MODERN)/.installed packages
packages:
	setup/install-system-packages $(RUN_PACKAGES)

# The legacy virtualenv: CPython 3.5 or 3.6, pip/setuptools old enough to
# build 2017 sdists, then every pinned package and nothing else.
$(LEGACY)/.installed: requirements-bootstrap.txt requirements-legacy.txt requirements-legacy-tests.txt
	rm -rf $(LEGACY)
	"$$(setup/find-python 3.5 3.6)" -m venv $(LEGACY)
	$(LEGACY)/bin/pip install -q -r requirements-bootstrap.txt
	$(LEGACY)/bin/pip install -q --no-deps -r requirements-legacy-tests.txt
	$(LEGACY)/bin/pip check
	touch $@

# The modern port and the tools (the Python 3.5 checker, the black-box
# suites) run on the machine's current CPython. Debian's python3 has no
# venv (ensurepip) until python3-venv is installed.
$(MODERN)/.installed: requirements-modern.txt requirements-modern-tests.txt
$(TOOLS)/.installed: requirements-tools.txt
$(MODERN)/.installed $(TOOLS)/.installed:
	rm -rf $(@D)
	python="$$(setup/find-python $(CURRENT_PYTHONS))" && \
	{ "$$python" -c 'import ensurepip' 2>/dev/null || setup/install-system-packages python3-venv; } && \
	"$$python" -m venv $(@D)
	$(@D)/bin/pip install -q --no-deps -r $(lastword $^)
	$(@D)/bin/pip check
	touch $@

migrate: $(LEGACY)/.installed
	mkdir -p var
	$(LEGACY)/bin/python manage.py migrate --noinput

# Every legacy source file must stay valid Python 3.5: no f-strings, no
# variable annotations, nothing newer.
check-py35: $(TOOLS)/.installed
	$(TOOLS)/bin/vermin --no-tips --violations -t=3.5- manage.py vikander chat tests harness qa/fidelity.py qa/__init__.py bench/settings_cache.py bench/settings_capacity.py bench/settings_sync.py bench/__init__.py

# The post's thirteen code blocks (docs/post.md) against the replica:
# writes docs/fidelity.md; fails on a hunk with no ledger entry.
.PHONY: fidelity
fidelity: $(TOOLS)/.installed
	$(TOOLS)/bin/python -m qa.fidelity

# Re-fetch the third-party front-end files and check their checksums.
assets:
	setup/fetch-assets

# WebSocket conformance: the Autobahn|Testsuite fuzzing client (CPython 2.7
# only) against an echo endpoint on each stack, reports in
# artefacts/conformance/. Fails only when the harness breaks, not on failed
# cases. Cases 1-7 and 10 (about 20 s a stack); CONFORMANCE_CASES='9.*' to
# choose others (qa/conformance.py says why 9, 12 and 13 are left out).
CONFORMANCE := var/venv-conformance

.PHONY: conformance
conformance: setup-legacy setup-modern $(TOOLS)/.installed $(CONFORMANCE)/.installed
	$(TOOLS)/bin/python -m qa.conformance

# CPython 2.7 has no venv module: virtualenv 16.7.12 (one module, no
# dependencies; virtualenv 20 on 2.7 would pull in several backports) is
# installed into var/ and run from there.
$(CONFORMANCE)/.installed: requirements-bootstrap.txt requirements-conformance.txt
	rm -rf $(CONFORMANCE) var/virtualenv-py27
	py27="$$(setup/find-python 2.7)" && \
	"$$py27" -m pip install -q --disable-pip-version-check --target var/virtualenv-py27 virtualenv==16.7.12 && \
	PYTHONPATH=var/virtualenv-py27 "$$py27" -m virtualenv -q --no-download $(CONFORMANCE)
	$(CONFORMANCE)/bin/pip install -q -r requirements-bootstrap.txt
	$(CONFORMANCE)/bin/pip install -q --no-deps -r requirements-conformance.txt
	$(CONFORMANCE)/bin/pip check
	touch $@
