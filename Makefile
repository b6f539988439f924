# Two commands do everything on a fresh Debian machine: `make run` and
# `make test`. Everything they create lives in var/ (git ignores it).
# `make run` builds only what it runs; `make test` builds everything.
# `make help` lists the targets: the `##` line above each says what it
# does. Recipes are a few commands; programs live in ops/.

PORT ?= 8001
BIND ?= 127.0.0.1
REDIS_URL ?= redis://127.0.0.1:6379
export PORT BIND REDIS_URL

# Every generation's facts live in generations/generations.txt;
# ops/generations reads them (docs/generations.md).
generation = $(shell ops/generations $(1) $(2))
GENERATIONS := $(shell ops/generations)
# Those between the post and the port, in generations/ (setup-channels-X).
BETWEEN := $(foreach g,$(GENERATIONS),\
	$(if $(filter generations/%,$(call generation,$(g),tree)),$(g)))
LEGACY := $(call generation,1.0,venv)
MODERN := $(call generation,4.3,venv)
TOOLS := var/venv-tools
TRACER := var/venv-trace
RUN_PACKAGES := redis-server redis-tools
PRODUCTION_PACKAGES := $(RUN_PACKAGES) nginx openssl
# The cluster's engine, and what makes stand-in images (make cluster).
DOCKER_PACKAGES := docker.io docker-compose debootstrap
TEST_PACKAGES := $(PRODUCTION_PACKAGES) chromium chromium-driver $(DOCKER_PACKAGES)
WITH_LEGACY := PATH="$(CURDIR)/$(LEGACY)/bin:$$PATH"
WITH_MODERN := PATH="$(CURDIR)/$(MODERN)/bin:$$PATH"
# The tools run on the port's CPython (numpy 2.4 and matplotlib 3.11 in
# requirements/tools.txt need 3.11 or newer).
CURRENT_PYTHONS := $(call generation,4.3,python)
# What must stay valid Python 3.5: the post's package, its tests, what they
# run (the harness, the settings variants, the channel layers, the QA
# drivers), the cluster's settings and layer among them.
PY35 := manage.py vikander chat tests lab/harness lab/variants lab/layers lab/tracing lab/qa \
	lab/tutorial lab/pages.py

.PHONY: help run run-modern run-production run-modern-production test compare screenshots \
	setup-legacy setup-modern setup-generations packages migrate lint check-py35 assets trace \
	trace-diagram cluster bench bench-cluster soak fidelity migrating \
	conformance tutorial tutorial-check tutorial-run
.DELETE_ON_ERROR:

## every target, one line each
help:
	@ops/help "$(BETWEEN)" $(MAKEFILE_LIST)

# The post's two terminals in one command, its settings and one runworker
# (ops/run-post); RUNWORKERS=2, CONN_MAX_AGE=60 and TRACE=layer are
# opt-in, RUNTIME=host or docker where it runs (ops/runtime).
# CHANNELS=1.1, 2.4, 3.0 or 4.3 runs that generation of the same app
# instead (ops/run-channels); 1.0, or unset, the post.
CHANNELS ?=
REDIS_GIVEN = $(filter-out file,$(origin REDIS_URL))
## the post: Redis, daphne and one runworker on http://127.0.0.1:8001/chat/ (CHANNELS=2.4: another)
run:
	@REDIS_URL_GIVEN=$(if $(REDIS_GIVEN),1) exec ops/run-channels "$(CHANNELS)"

# The modern port on its own port, on the same database and Redis server
# (its own Redis database number, so the two stacks never share a group).
MODERN_PORT ?= 8002
MODERN_REDIS_URL ?= redis://127.0.0.1:6379/$(call generation,4.3,redis)
# TRACE=layer: the port's layer publishes each hop for make trace.
LAYER_TRACE := DJANGO_SETTINGS_MODULE=lab.variants.modern_layer_trace PYTHONPATH=$(CURDIR)
## the modern port on http://127.0.0.1:8002/chat/
run-modern: setup-modern
	@ops/check-trace $@
	cd modern && ../$(MODERN)/bin/python manage.py migrate --noinput
	@echo "Serving http://127.0.0.1:$(MODERN_PORT)/chat/ (Ctrl-C stops Redis and daphne)"
	$(WITH_MODERN) PORT=$(MODERN_PORT) REDIS_URL=$(MODERN_REDIS_URL) \
		$(if $(filter layer,$(TRACE)),$(LAYER_TRACE)) honcho start -f modern/Procfile web redis

# Production mode (DEBUG=0, SECRET_KEY from the environment): collectstatic,
# then the whole Procfile, nginx with TLS in front (ops/proxy) included, on
# https://127.0.0.1:PROXY_PORT/.
PROXY_PORT ?= 8443
CONN_MAX_AGE ?= 0
PRODUCTION = DEBUG=0 STATIC_ROOT=$(CURDIR)/var/$(1) PROXY_PORT=$(PROXY_PORT)
## the replica in production mode behind nginx on https://127.0.0.1:8443/chat/
run-production: setup-legacy migrate
	ops/install-system-packages $(PRODUCTION_PACKAGES)
	$(call PRODUCTION,static) $(LEGACY)/bin/python manage.py collectstatic --noinput -v0
	$(call PRODUCTION,static) UPSTREAM=$(BIND):$(PORT) CONN_MAX_AGE=$(CONN_MAX_AGE) \
		$(WITH_LEGACY) honcho start -f Procfile

## the modern port in production mode behind nginx
run-modern-production: setup-modern
	ops/install-system-packages $(PRODUCTION_PACKAGES)
	cd modern && DEBUG=0 ../$(MODERN)/bin/python manage.py migrate --noinput
	cd modern && $(call PRODUCTION,static-modern) ../$(MODERN)/bin/python manage.py \
		collectstatic --noinput -v0
	$(call PRODUCTION,static-modern) PORT=$(MODERN_PORT) UPSTREAM=$(BIND):$(MODERN_PORT) \
		REDIS_URL=$(MODERN_REDIS_URL) $(WITH_MODERN) honcho start -f modern/Procfile

# TEST_ARGS='PATH [pytest options]' runs one suite, file or test instead of
# all, in the virtualenv its path needs (ops/test, docs/tests.md).
TEST_ARGS ?=
EVERY_VENV := setup-legacy setup-generations setup-modern $(TOOLS)/.installed $(TRACER)/.installed
## every suite (what CI runs); TEST_ARGS='PATH -k NAME' runs one
test: $(EVERY_VENV) $(if $(TEST_ARGS),,lint) check-py35
	ops/install-system-packages $(TEST_PACKAGES)
	TOOLS=$(TOOLS) ops/test $(TEST_ARGS)

# One line per hop through the channel layer of the stack `make run`
# started (CHANNELS=X: `make run CHANNELS=X`, 4.3 also `make run-modern`),
# until Ctrl-C; a line per message at the end. Read from Redis's MONITOR;
# TRACE=layer reads what the layer publishes under `make run TRACE=layer`.
# TRACE_ARGS='--seconds 30' and the like (lab/tracing/).
TRACE_ARGS ?= --summary
TRACING = $(if $(and $(CHANNELS),$(REDIS_GIVEN)),--redis $(REDIS_URL)) \
	$(if $(filter layer,$(TRACE)),--layer) $(TRACE_ARGS)
## every hop of each chat message through the running stack's channel layer
trace: $(TRACER)/.installed
	@ops/check-trace $@
	MODERN_REDIS_URL=$(MODERN_REDIS_URL) $(TRACER)/bin/python -m lab.tracing $(TRACING)

## docs/generated/trace-*.svg: one message through each stack
trace-diagram: setup-legacy setup-modern $(TOOLS)/.installed $(TRACER)/.installed
	$(TOOLS)/bin/python -m lab.tracing.diagram

# The stack over several containers (docker-compose.yml; CHANNELS=4.3 for
# modern/docker-compose.yml) behind nginx on https://127.0.0.1:CLUSTER_PORT/,
# in production mode, until Ctrl-C, which stops and removes it all. Starts
# a Docker engine if none runs; builds stand-in images when no registry
# answers (ops/stand-in-images).
CLUSTER_PORT ?= 8443
## the stack over several containers behind nginx, sharded Redis, PostgreSQL
cluster: $(TOOLS)/.installed
	ops/install-system-packages $(DOCKER_PACKAGES)
	$(TOOLS)/bin/python -m lab.cluster $(or $(CHANNELS),1.0) $(CLUSTER_PORT)

# Every stack under every load in one run (lab/bench/run.py): the post's
# deployments, the port under daphne and under uvicorn, every other
# generation, the tuning and trace rows; then docs/generated/benchmarks.md
# and bench-load.png (lab/bench/report.py) and docs/generated/scaling.md
# (lab/bench/scaling.py), printing a line as each system ends each load,
# with the time left. BENCH_ARGS='--repeat 3' for the spread (about an
# hour), '--loads quiet,300' for fewer.
BENCH_ARGS ?=
## every stack under load: docs/generated/benchmarks.md
bench: $(EVERY_VENV)
	ops/install-system-packages $(PRODUCTION_PACKAGES)
	$(TOOLS)/bin/python -m lab.bench.run $(BENCH_ARGS)
	$(TOOLS)/bin/python -m lab.bench.report
	$(TOOLS)/bin/python -m lab.bench.scaling

# The reference and every generation under churn for a bounded time
# (lab/bench/soak.py), then docs/generated/soak.md and soak.png
# (lab/bench/soak_report.py). SOAK_ARGS='--seconds 600' runs longer.
SOAK_ARGS ?=
## every generation over time (memory, descriptors, Redis): docs/generated/soak.md
soak: setup-legacy setup-modern setup-generations $(TOOLS)/.installed
	$(TOOLS)/bin/python -m lab.bench.soak $(SOAK_ARGS)
	$(TOOLS)/bin/python -m lab.bench.soak_report

# make cluster's containers under three loads beside the same processes
# without containers, 3 repeats: the report's "On several containers".
## the cluster's containers under load, into the same report
bench-cluster: setup-legacy setup-modern $(TOOLS)/.installed
	ops/install-system-packages $(PRODUCTION_PACKAGES) $(DOCKER_PACKAGES)
	$(TOOLS)/bin/python -m lab.bench.run --loads quiet,busy,300 --repeat 3 \
		--out artefacts/bench/cluster \
		--systems reference,legacy-2x2,legacy-cluster,modern-x2,modern-cluster
	$(TOOLS)/bin/python -m lab.bench.report

# Every scenario on every generation (the post, 1.1, 2.4, 3.0, the port);
# the run writes artefacts/comparison.md and .html and prints the table,
# then lab/blackbox/comparison.py writes docs/generated/comparison.md.
## the behaviour comparison: docs/generated/comparison.md
compare: setup-legacy setup-generations setup-modern $(TOOLS)/.installed
	$(TOOLS)/bin/python -m pytest lab/blackbox/test_scenarios.py
	$(TOOLS)/bin/python -m lab.blackbox.comparison

## docs/generated/screenshot-room.png, a room in headless Chromium
screenshots: setup-legacy $(TOOLS)/.installed
	ops/install-system-packages $(TEST_PACKAGES)
	STACKS=1.0 $(TOOLS)/bin/python -m pytest lab/blackbox/test_browser.py -k two_pages
	cp artefacts/1.0-room.png docs/generated/screenshot-room.png

# The generations between the post and the port, each on the CPython it
# supported (requirements/channels-*.txt say why each pin). Channels 1's
# 2017 sdists need bootstrap's older pip and setuptools.
## Channels %'s virtualenv and Redis
setup-channels-%: var/venv-channels-%/.installed packages
	@:
## the virtualenvs of the generations between the post and the port, and Redis
setup-generations: $(foreach g,$(BETWEEN),var/venv-channels-$(g)/.installed) packages
var/venv-channels-%/.installed: requirements/channels-%.txt requirements/bootstrap.txt
	rm -rf $(@D)
	python="$$(ops/find-python $(call generation,$*,python))" && "$$python" -m venv $(@D)
	$(if $(filter yes,$(call generation,$*,runworker)),$(@D)/bin/pip install -q -r $(lastword $^))
	$(@D)/bin/pip install -q --no-deps -r $<
	$(@D)/bin/pip check
	touch $@

## the legacy virtualenv and Redis
setup-legacy: $(LEGACY)/.installed packages
## the modern virtualenv and Redis
setup-modern: $(MODERN)/.installed packages
## the Debian packages make run needs
packages:
	ops/install-system-packages $(RUN_PACKAGES)

# The legacy virtualenv: CPython 3.5 or 3.6, pip/setuptools old enough to
# build 2017 sdists, then every pinned package and nothing else.
$(LEGACY)/.installed: requirements/bootstrap.txt requirements-legacy.txt \
		requirements/legacy-tests.txt
	rm -rf $(LEGACY)
	python="$$(ops/find-python $(call generation,1.0,python))" && "$$python" -m venv $(LEGACY)
	$(LEGACY)/bin/pip install -q -r requirements/bootstrap.txt
	$(LEGACY)/bin/pip install -q --no-deps -r requirements/legacy-tests.txt
	$(LEGACY)/bin/pip check
	touch $@

# The modern port, the tools and the trace run on the machine's current
# CPython (the port's row of generations/generations.txt). Debian's
# python3 has no venv (ensurepip) until python3-venv is installed.
$(MODERN)/.installed: requirements/modern.txt requirements/modern-tests.txt
$(TOOLS)/.installed: requirements/tools.txt
$(TRACER)/.installed: requirements/trace.txt
$(MODERN)/.installed $(TOOLS)/.installed $(TRACER)/.installed:
	rm -rf $(@D)
	python="$$(ops/find-python $(CURRENT_PYTHONS))" && \
	{ "$$python" -c 'import ensurepip' 2>/dev/null || ops/install-system-packages python3-venv; } && \
	"$$python" -m venv $(@D)
	$(@D)/bin/pip install -q --no-deps -r $(lastword $^)
	$(@D)/bin/pip check
	touch $@

## the SQLite database var/db.sqlite3
migrate: $(LEGACY)/.installed
	mkdir -p var
	$(LEGACY)/bin/python manage.py migrate --noinput

# ruff over what the project wrote; .ruff.toml leaves out the post's own
# code (and the modern port's app, which mirrors it), kept as printed. Then
# no line in ops/ or this Makefile over 100 characters (find, not git
# ls-files: the copy lab/qa/test_lint.py lints has no .git).
TOO_LONG := length > 100 { print FILENAME ":" FNR ": longer than 100 characters"; bad = 1 }
## ruff: lint and format check of the project's own code (make test runs it)
lint: $(TOOLS)/.installed
	$(TOOLS)/bin/ruff check .
	$(TOOLS)/bin/ruff format --check .
	@find ops Makefile -type f -exec awk '$(TOO_LONG) END { exit bad }' {} +

## vermin: what must stay valid Python 3.5 is (docs/layout.md)
check-py35: $(TOOLS)/.installed
	$(TOOLS)/bin/vermin --no-tips --violations -t=3.5- $(PY35)

# The walk-through (docs/tutorial.md), in TUTORIAL_DIR, on the legacy
# virtualenv. STEP=N brings the workspace to the end of step N; REPLACE=FILE
# lets it overwrite a file you changed.
TUTORIAL_DIR ?= var/tutorial
TUTORIAL := $(WITH_LEGACY) $(LEGACY)/bin/python -m lab.tutorial
## the post's steps and which are done; STEP=N builds the workspace to step N
tutorial: setup-legacy
	$(TUTORIAL) $(if $(STEP),step $(TUTORIAL_DIR) $(STEP) $(REPLACE),list $(TUTORIAL_DIR))

## checks the workspace step by step, by behaviour, to the first failing
tutorial-check: setup-legacy
	$(TUTORIAL) check $(TUTORIAL_DIR)

# The workspace as `make run` runs the replica (ops/tutorial-run).
## the workspace's chat: Redis, daphne and one runworker on PORT
tutorial-run:
	@ops/tutorial-run $(TUTORIAL_DIR)

## each generation to the next, pins, diffs and behaviour: docs/generated/migrating.md
migrating: $(TOOLS)/.installed
	$(TOOLS)/bin/python -m lab.migrating

## the post's code against the replica: docs/generated/fidelity.md
fidelity: $(TOOLS)/.installed
	$(TOOLS)/bin/python -m lab.qa.fidelity

## fetch the third-party front-end files again and check their checksums
assets:
	command -v npm >/dev/null || ops/install-system-packages npm
	ops/fetch-assets

# WebSocket conformance: the Autobahn|Testsuite fuzzing client (CPython 2.7
# only) against an echo endpoint on each stack, reports in
# artefacts/conformance/. Fails only when the harness breaks, not on failed
# cases. CONFORMANCE_CASES='9.*' to choose other cases
# (lab/qa/conformance.py says why 9, 12 and 13 are left out).
CONFORMANCE := var/venv-conformance

## the Autobahn suite against both stacks
conformance: setup-legacy setup-modern $(TOOLS)/.installed $(CONFORMANCE)/.installed
	$(TOOLS)/bin/python -m lab.qa.conformance

# CPython 2.7 has no venv module: virtualenv 16.7.12 (one module, no
# dependencies; virtualenv 20 on 2.7 would pull in several backports) is
# installed into var/ and run from there.
$(CONFORMANCE)/.installed: requirements/bootstrap.txt requirements/conformance.txt
	rm -rf $(CONFORMANCE) var/virtualenv-py27
	py27="$$(ops/find-python 2.7.18)" && \
	"$$py27" -m pip install -q --disable-pip-version-check --target var/virtualenv-py27 \
		virtualenv==16.7.12 && \
	PYTHONPATH=var/virtualenv-py27 "$$py27" -m virtualenv -q --no-download $(CONFORMANCE)
	$(CONFORMANCE)/bin/pip install -q -r requirements/bootstrap.txt
	$(CONFORMANCE)/bin/pip install -q --no-deps -r requirements/conformance.txt
	$(CONFORMANCE)/bin/pip check
	touch $@
