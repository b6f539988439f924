# Two commands do everything on a fresh Debian machine: `make run` and
# `make test`. Everything they create lives in var/ (git ignores it).
# `make run` builds only what it runs; `make test` builds everything.
# `make help` lists the targets: each says what it does after its `##`.

PORT ?= 8001
BIND ?= 127.0.0.1
REDIS_URL ?= redis://127.0.0.1:6379
export PORT BIND REDIS_URL

LEGACY := var/venv-legacy
MODERN := var/venv-modern
TOOLS := var/venv-tools
TRACER := var/venv-trace
RUN_PACKAGES := redis-server redis-tools
PRODUCTION_PACKAGES := $(RUN_PACKAGES) nginx openssl
# The cluster's engine, and what makes stand-in images (make cluster).
DOCKER_PACKAGES := docker.io docker-compose debootstrap
TEST_PACKAGES := $(PRODUCTION_PACKAGES) chromium chromium-driver $(DOCKER_PACKAGES)
WITH_LEGACY := PATH="$(CURDIR)/$(LEGACY)/bin:$$PATH"
WITH_MODERN := PATH="$(CURDIR)/$(MODERN)/bin:$$PATH"
# The modern port and the tools run on the machine's own CPython, 3.11 or
# newer (numpy 2.4 and matplotlib 3.11 in requirements/tools.txt need 3.11).
CURRENT_PYTHONS := 3.13 3.12 3.11
# What must stay valid Python 3.5: the post's package, its tests, what they
# run (the harness, the settings variants, the channel layers, the QA
# drivers), the cluster's settings and layer among them.
PY35 := manage.py vikander chat tests lab/harness lab/variants lab/layers lab/tracing lab/qa lab/tutorial

.PHONY: help run run-modern run-production run-modern-production test compare screenshots \
	setup-legacy setup-modern setup-generations packages migrate lint check-py35 assets trace trace-diagram cluster \
	bench bench-generations bench-cluster fidelity migrating conformance tutorial tutorial-check tutorial-run
.DELETE_ON_ERROR:

help: ## every target, one line each
	@awk -F':.*## ' '/^[a-z][a-z0-9-]*:.*## / {printf "make %-22s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Deviation C10: the post's two terminals in one `make run`, the Procfile's
# web, worker and redis under honcho (docs/deviations.md).
# The post ran one runworker and Django's default CONN_MAX_AGE (0). What the
# benchmark found carries more (docs/performance.md) is a variable away:
# RUNWORKERS=2, CONN_MAX_AGE=60 (deviation C18). TRACE=layer runs the layer
# trace's settings (lab/variants/layer_trace.py): the channel layer itself
# publishes each hop for `make trace TRACE=layer`. RUNTIME=host runs the
# legacy virtualenv on this machine's CPython 3.5 or 3.6, RUNTIME=docker
# the legacy image (ops/run-in-docker); unset, ops/runtime chooses, says
# why in the first line, and refuses a value of these variables that
# would do nothing.
RUNWORKERS ?= 1
CONN_MAX_AGE ?= 0
TRACE ?=
LAYER_TRACE_SETTINGS = $(if $(filter layer,$(TRACE)),DJANGO_SETTINGS_MODULE=lab.variants.$(1) PYTHONPATH=$(CURDIR))
# make run, make run-modern and make trace refuse a TRACE that would do
# nothing.
TRACE_CHECK = @case "$(TRACE)" in ''|layer) ;; *) echo "make $@: TRACE=$(TRACE): TRACE=layer (the channel layer publishes each hop for make trace), or unset" >&2; exit 2 ;; esac
# CHANNELS=1.1, 2.4, 3.0 or 4.3 runs that generation of the same app
# instead (generations/, modern/; ops/run-channels); 1.0, or unset, the post.
CHANNELS ?=
run: ## the post: Redis, daphne and one runworker on http://127.0.0.1:8001/chat/ (CHANNELS=2.4: another generation)
	@case "$(CHANNELS)" in ''|1.0|1.0.3) ;; *) REDIS_URL_GIVEN=$(if $(filter file,$(origin REDIS_URL)),,1) \
	    exec ops/run-channels "$(CHANNELS)" ;; esac
	$(TRACE_CHECK)
	@runtime="$$(ops/runtime run)" || exit 2; \
	if [ "$$runtime" = docker ]; then exec ops/run-in-docker .; fi; \
	$(MAKE) --no-print-directory setup-legacy migrate && \
	echo "Serving http://127.0.0.1:$(PORT)/chat/ (Ctrl-C stops Redis, daphne and the runworker)" && \
	$(WITH_LEGACY) $(call LAYER_TRACE_SETTINGS,layer_trace) CONN_MAX_AGE=$(CONN_MAX_AGE) \
		exec honcho start -f Procfile -c worker=$(RUNWORKERS) web worker redis

# The modern port on its own port, on the same database and Redis server
# (its own Redis database number, so the two stacks never share a group).
MODERN_PORT ?= 8002
MODERN_REDIS_URL ?= redis://127.0.0.1:6379/1
run-modern: setup-modern ## the modern port on http://127.0.0.1:8002/chat/
	$(TRACE_CHECK)
	cd modern && ../$(MODERN)/bin/python manage.py migrate --noinput
	@echo "Serving http://127.0.0.1:$(MODERN_PORT)/chat/ (Ctrl-C stops Redis and daphne)"
	$(WITH_MODERN) PORT=$(MODERN_PORT) REDIS_URL=$(MODERN_REDIS_URL) \
		$(call LAYER_TRACE_SETTINGS,modern_layer_trace) honcho start -f modern/Procfile web redis

# Production mode (DEBUG=0, SECRET_KEY from the environment): collectstatic,
# then the whole Procfile, nginx with TLS in front (ops/proxy) included, on
# https://127.0.0.1:PROXY_PORT/.
PROXY_PORT ?= 8443
run-production: setup-legacy migrate ## the replica in production mode behind nginx on https://127.0.0.1:8443/chat/
	ops/install-system-packages $(PRODUCTION_PACKAGES)
	DEBUG=0 STATIC_ROOT=$(CURDIR)/var/static $(LEGACY)/bin/python manage.py collectstatic --noinput -v0
	DEBUG=0 STATIC_ROOT=$(CURDIR)/var/static PROXY_PORT=$(PROXY_PORT) UPSTREAM=$(BIND):$(PORT) \
		CONN_MAX_AGE=$(CONN_MAX_AGE) $(WITH_LEGACY) honcho start -f Procfile

run-modern-production: setup-modern ## the modern port in production mode behind nginx
	ops/install-system-packages $(PRODUCTION_PACKAGES)
	cd modern && DEBUG=0 ../$(MODERN)/bin/python manage.py migrate --noinput
	cd modern && DEBUG=0 STATIC_ROOT=$(CURDIR)/var/static-modern ../$(MODERN)/bin/python manage.py collectstatic --noinput -v0
	DEBUG=0 STATIC_ROOT=$(CURDIR)/var/static-modern PROXY_PORT=$(PROXY_PORT) PORT=$(MODERN_PORT) UPSTREAM=$(BIND):$(MODERN_PORT) \
		REDIS_URL=$(MODERN_REDIS_URL) $(WITH_MODERN) honcho start -f modern/Procfile

# TEST_ARGS='PATH [pytest options]' runs one suite, file or test instead of
# all, in the virtualenv its path needs: tests/ the legacy one, modern/tests/
# the modern one (from modern/), lab/ the tools' (docs/tests.md).
TEST_ARGS ?=
test: setup-legacy setup-generations setup-modern $(TOOLS)/.installed $(TRACER)/.installed $(if $(TEST_ARGS),,lint) check-py35 ## every suite (what CI runs); TEST_ARGS='PATH -k NAME' runs one
	ops/install-system-packages $(TEST_PACKAGES)
ifneq ($(TEST_ARGS),)
	@set -- $(TEST_ARGS); case "$$1" in \
	    tests|tests/*) $(WITH_LEGACY) exec python -m pytest "$$@" ;; \
	    modern/tests|modern/tests/*) where="$${1#modern/}"; shift; cd modern && exec ../$(MODERN)/bin/python -m pytest "$$where" "$$@" ;; \
	    lab/*) exec $(TOOLS)/bin/python -m pytest "$$@" ;; \
	    *) echo "make test: TEST_ARGS=$(TEST_ARGS): its first word is a path under tests/, modern/tests/ or lab/" >&2; exit 2 ;; \
	esac
else
	$(WITH_LEGACY) python -m pytest tests
	cd modern && ../$(MODERN)/bin/python -m pytest tests
	$(MAKE) conformance
	$(TOOLS)/bin/python -m pytest lab/qa
	$(TOOLS)/bin/python -m pytest lab/blackbox
	$(TOOLS)/bin/python -m pytest lab/bench
	$(TOOLS)/bin/python -m pytest lab/tracing
	$(TOOLS)/bin/python -m pytest lab/tutorial
endif

# One line per hop through the channel layer of the stack `make run` (or,
# with STACK=modern, `make run-modern`) started, until Ctrl-C; a line per
# message at the end. Read from Redis's MONITOR; TRACE=layer reads what the
# layer publishes under `make run TRACE=layer`. TRACE_ARGS='--seconds 30' and
# the like (lab/tracing/).
# CHANNELS=1.1, 2.4, 3.0 or 4.3 traces the stack `make run CHANNELS=X`
# started, from MONITOR, on the Redis database that gave it.
STACK ?= legacy
TRACE_ARGS ?= --summary
TRACED = $(if $(filter 1.1 2.4 3.0,$(CHANNELS)),channels-$(CHANNELS),$(if $(filter 4.3,$(CHANNELS)),modern,$(STACK)))
trace: $(TRACER)/.installed ## every hop of each chat message through the running stack's channel layer
	$(TRACE_CHECK)
	@case "$(CHANNELS):$(TRACE)" in :*|1.0:*|1.0.3:*|4.3:*|1.1:|2.4:|3.0:) ;; \
	    1.1:*|2.4:*|3.0:*) echo "make trace: CHANNELS=$(CHANNELS): TRACE=layer traces the post and the port only" >&2; exit 2 ;; \
	    *) echo "make trace: CHANNELS=$(CHANNELS): no such generation: 1.1, 2.4, 3.0 or 4.3" >&2; exit 2 ;; esac
	MODERN_REDIS_URL=$(MODERN_REDIS_URL) $(TRACER)/bin/python -m lab.tracing --stack $(TRACED) \
		$(if $(and $(CHANNELS),$(filter-out file,$(origin REDIS_URL))),--redis $(REDIS_URL)) \
		$(if $(filter layer,$(TRACE)),--layer) $(TRACE_ARGS)

trace-diagram: setup-legacy setup-modern $(TOOLS)/.installed $(TRACER)/.installed ## docs/generated/trace-*.svg: one message through each stack
	$(TOOLS)/bin/python -m lab.tracing.diagram

# The stack over several containers (docker-compose.yml; STACK=modern for
# modern/docker-compose.yml) behind nginx on https://127.0.0.1:CLUSTER_PORT/,
# in production mode, until Ctrl-C, which stops and removes it all. Starts
# a Docker engine if none runs; builds stand-in images when no registry
# answers (ops/stand-in-images).
CLUSTER_PORT ?= 8443
cluster: $(TOOLS)/.installed ## the stack over several containers behind nginx, sharded Redis, PostgreSQL
	ops/install-system-packages $(DOCKER_PACKAGES)
	$(TOOLS)/bin/python -m lab.cluster $(STACK) $(CLUSTER_PORT)

# Every stack under every load (lab/bench/run.py), then every generation
# beside the reference (run.py --generations), then
# docs/generated/benchmarks.md and bench-load.png (lab/bench/report.py),
# and docs/generated/scaling.md (lab/bench/scaling.py). BENCH_ARGS='--repeat
# 3' for the spread, '--loads quiet,300' for fewer.
BENCH_ARGS ?=
bench: setup-legacy setup-modern setup-generations $(TOOLS)/.installed $(TRACER)/.installed ## every stack under load: docs/generated/benchmarks.md
	ops/install-system-packages $(PRODUCTION_PACKAGES)
	$(TOOLS)/bin/python -m lab.bench.run $(BENCH_ARGS)
	$(MAKE) --no-print-directory bench-generations
	$(TOOLS)/bin/python -m lab.bench.scaling

# The generations part of make bench alone, into the same report.
bench-generations: setup-legacy setup-modern setup-generations $(TOOLS)/.installed ## every generation under load, beside the reference
	ops/install-system-packages $(PRODUCTION_PACKAGES)
	$(TOOLS)/bin/python -m lab.bench.run --generations $(BENCH_ARGS)
	$(TOOLS)/bin/python -m lab.bench.report

# make cluster's containers under three loads beside the same processes
# without containers, 3 repeats: the report's "On several containers".
bench-cluster: setup-legacy setup-modern $(TOOLS)/.installed ## the cluster's containers under load, into the same report
	ops/install-system-packages $(PRODUCTION_PACKAGES) $(DOCKER_PACKAGES)
	$(TOOLS)/bin/python -m lab.bench.run --systems reference,legacy-2x2,legacy-cluster,modern-x2,modern-cluster \
		--loads quiet,busy,300 --repeat 3 --out artefacts/bench/cluster
	$(TOOLS)/bin/python -m lab.bench.report

# Every scenario on every generation (the post, 1.1, 2.4, 3.0, the port);
# writes artefacts/comparison.md and .html, copies the Markdown to
# docs/generated/comparison.md, prints the table.
compare: setup-legacy setup-generations setup-modern $(TOOLS)/.installed ## the behaviour comparison: docs/generated/comparison.md
	$(TOOLS)/bin/python -m pytest lab/blackbox/test_scenarios.py
	cp artefacts/comparison.md docs/generated/comparison.md

screenshots: setup-legacy $(TOOLS)/.installed ## docs/generated/screenshot-room.png, a room in headless Chromium
	ops/install-system-packages $(TEST_PACKAGES)
	STACKS=legacy $(TOOLS)/bin/python -m pytest lab/blackbox/test_browser.py -k two_pages
	cp artefacts/legacy-room.png docs/generated/screenshot-room.png

# The generations between the post and the port, each on the CPython it
# supported (requirements/channels-*.txt say why each pin).
GENERATIONS := 1.1 2.4 3.0
PYTHON_1.1 := 3.6
PYTHON_2.4 := 3.8
PYTHON_3.0 := 3.10
setup-channels-%: var/venv-channels-%/.installed packages ## (1.1, 2.4 or 3.0) that generation's virtualenv and Redis
	@:
setup-generations: $(foreach g,$(GENERATIONS),var/venv-channels-$(g)/.installed) packages ## the virtualenvs of Channels 1.1, 2.4 and 3.0, and Redis
var/venv-channels-%/.installed: requirements/channels-%.txt requirements/bootstrap.txt
	rm -rf $(@D)
	python="$$(ops/find-python $(PYTHON_$*))" && "$$python" -m venv $(@D)
	$(if $(filter 1.1,$*),$(@D)/bin/pip install -q -r requirements/bootstrap.txt)
	$(@D)/bin/pip install -q --no-deps -r $<
	$(@D)/bin/pip check
	touch $@

setup-legacy: $(LEGACY)/.installed packages ## the legacy virtualenv and Redis
setup-modern: $(MODERN)/.installed packages ## the modern virtualenv and Redis
packages: ## the Debian packages make run needs
	ops/install-system-packages $(RUN_PACKAGES)

# The legacy virtualenv: CPython 3.5 or 3.6, pip/setuptools old enough to
# build 2017 sdists, then every pinned package and nothing else.
$(LEGACY)/.installed: requirements/bootstrap.txt requirements-legacy.txt requirements/legacy-tests.txt
	rm -rf $(LEGACY)
	python="$$(ops/find-python 3.5 3.6)" && "$$python" -m venv $(LEGACY)
	$(LEGACY)/bin/pip install -q -r requirements/bootstrap.txt
	$(LEGACY)/bin/pip install -q --no-deps -r requirements/legacy-tests.txt
	$(LEGACY)/bin/pip check
	touch $@

# The modern port, the tools and the trace run on the machine's current
# CPython. Debian's python3 has no venv (ensurepip) until python3-venv is
# installed.
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

migrate: $(LEGACY)/.installed ## the SQLite database var/db.sqlite3
	mkdir -p var
	$(LEGACY)/bin/python manage.py migrate --noinput

# ruff over what the project wrote; .ruff.toml leaves out the post's own
# code (and the modern port's app, which mirrors it), kept as printed. Then
# no line in ops/ over 100 characters (find, not git ls-files: the copy
# lab/qa/test_lint.py lints has no .git).
lint: $(TOOLS)/.installed ## ruff: lint and format check of the project's own code (make test runs it)
	$(TOOLS)/bin/ruff check .
	$(TOOLS)/bin/ruff format --check .
	@find ops -type f -exec awk 'length > 100 { print FILENAME ":" FNR ": longer than 100 characters"; bad = 1 } END { exit bad }' {} +

check-py35: $(TOOLS)/.installed ## vermin: what must stay valid Python 3.5 is (docs/layout.md)
	$(TOOLS)/bin/vermin --no-tips --violations -t=3.5- $(PY35)

# The walk-through (docs/tutorial.md), in TUTORIAL_DIR, on the legacy
# virtualenv. STEP=N brings the workspace to the end of step N; REPLACE=FILE
# lets it overwrite a file you changed.
TUTORIAL_DIR ?= var/tutorial
TUTORIAL := $(WITH_LEGACY) $(LEGACY)/bin/python -m lab.tutorial
tutorial: setup-legacy ## the post's steps and which are done; STEP=N builds the workspace to step N
	$(TUTORIAL) $(if $(STEP),step $(TUTORIAL_DIR) $(STEP) $(REPLACE),list $(TUTORIAL_DIR))

tutorial-check: setup-legacy ## checks the workspace step by step, by behaviour, to the first failing
	$(TUTORIAL) check $(TUTORIAL_DIR)

# The workspace as `make run` runs the replica: the Procfile's lines, from
# the workspace's own files, Redis and respawn from here; RUNTIME as make
# run takes it.
tutorial-run: ## the workspace's chat: Redis, daphne and one runworker on PORT
	@runtime="$$(ops/runtime tutorial-run)" || exit 2; \
	test -f $(TUTORIAL_DIR)/chat/consumers.py || { echo "tutorial-run: $(TUTORIAL_DIR) has no chat/consumers.py yet: make tutorial STEP=5 (or write it)"; exit 2; }; \
	if [ "$$runtime" = docker ]; then exec ops/run-in-docker $(TUTORIAL_DIR); fi; \
	$(MAKE) --no-print-directory setup-legacy && mkdir -p var && \
	printf 'web: cd $(abspath $(TUTORIAL_DIR)) && daphne -b $$BIND -p $$PORT chat.asgi:channel_layer\nworker: cd $(abspath $(TUTORIAL_DIR)) && $(CURDIR)/ops/respawn python manage.py runworker\nredis: ops/respawn ops/redis-local\n' > var/tutorial.Procfile && \
	echo "Serving $(TUTORIAL_DIR) on http://127.0.0.1:$(PORT)/chat/ (Ctrl-C stops Redis, daphne and the runworker)" && \
	$(WITH_LEGACY) exec honcho start -f var/tutorial.Procfile -d $(CURDIR) web worker redis

migrating: $(TOOLS)/.installed ## each generation to the next, pins, diffs and behaviour: docs/generated/migrating.md
	$(TOOLS)/bin/python -m lab.migrating

fidelity: $(TOOLS)/.installed ## the post's code against the replica: docs/generated/fidelity.md
	$(TOOLS)/bin/python -m lab.qa.fidelity

assets: ## fetch the third-party front-end files again and check their checksums
	command -v npm >/dev/null || ops/install-system-packages npm
	ops/fetch-assets

# WebSocket conformance: the Autobahn|Testsuite fuzzing client (CPython 2.7
# only) against an echo endpoint on each stack, reports in
# artefacts/conformance/. Fails only when the harness breaks, not on failed
# cases. CONFORMANCE_CASES='9.*' to choose other cases
# (lab/qa/conformance.py says why 9, 12 and 13 are left out).
CONFORMANCE := var/venv-conformance

conformance: setup-legacy setup-modern $(TOOLS)/.installed $(CONFORMANCE)/.installed ## the Autobahn suite against both stacks
	$(TOOLS)/bin/python -m lab.qa.conformance

# CPython 2.7 has no venv module: virtualenv 16.7.12 (one module, no
# dependencies; virtualenv 20 on 2.7 would pull in several backports) is
# installed into var/ and run from there.
$(CONFORMANCE)/.installed: requirements/bootstrap.txt requirements/conformance.txt
	rm -rf $(CONFORMANCE) var/virtualenv-py27
	py27="$$(ops/find-python 2.7)" && \
	"$$py27" -m pip install -q --disable-pip-version-check --target var/virtualenv-py27 virtualenv==16.7.12 && \
	PYTHONPATH=var/virtualenv-py27 "$$py27" -m virtualenv -q --no-download $(CONFORMANCE)
	$(CONFORMANCE)/bin/pip install -q -r requirements/bootstrap.txt
	$(CONFORMANCE)/bin/pip install -q --no-deps -r requirements/conformance.txt
	$(CONFORMANCE)/bin/pip check
	touch $@
