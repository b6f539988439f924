# Two commands do everything on a fresh Debian machine: `make run` and
# `make test`. Everything they create lives in var/ (git ignores it).

PORT ?= 8001
BIND ?= 127.0.0.1
REDIS_URL ?= redis://127.0.0.1:6379
export PORT BIND REDIS_URL

LEGACY := var/venv-legacy
TOOLS := var/venv-tools
SYSTEM_PACKAGES := redis-server redis-tools

.PHONY: run test setup system-packages migrate check-py35 assets
.DELETE_ON_ERROR:

run: setup migrate
	@echo "Serving http://127.0.0.1:$(PORT)/chat/ (Ctrl-C stops Redis, daphne and runworker)"
	PATH="$(CURDIR)/$(LEGACY)/bin:$$PATH" honcho start -f Procfile

test: setup check-py35
	PATH="$(CURDIR)/$(LEGACY)/bin:$$PATH" python -m pytest tests

setup: system-packages $(LEGACY)/.installed $(TOOLS)/.installed

system-packages:
	tools/install-system-packages $(SYSTEM_PACKAGES)

# The legacy virtualenv: CPython 3.5 or 3.6, pip/setuptools old enough to
# build 2017 sdists, then every pinned package and nothing else.
$(LEGACY)/.installed: requirements-bootstrap.txt requirements-legacy.txt
	rm -rf $(LEGACY)
	"$$(tools/find-legacy-python)" -m venv $(LEGACY)
	$(LEGACY)/bin/pip install -q -r requirements-bootstrap.txt
	$(LEGACY)/bin/pip install -q --no-deps -r requirements-legacy.txt
	$(LEGACY)/bin/pip check
	touch $@

# Tools that run on the machine's current Python (the Python 3.5 checker).
$(TOOLS)/.installed: requirements-tools.txt
	rm -rf $(TOOLS)
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --no-deps -r requirements-tools.txt
	$(TOOLS)/bin/pip check
	touch $@

migrate: $(LEGACY)/.installed
	mkdir -p var
	$(LEGACY)/bin/python manage.py migrate --noinput

# Every legacy source file must stay valid Python 3.5: no f-strings, no
# variable annotations, nothing newer.
check-py35: $(TOOLS)/.installed
	$(TOOLS)/bin/vermin --no-tips --violations -t=3.5- manage.py vikander chat tests tools/stack.py

# Re-fetch the third-party front-end files and check their checksums.
assets:
	tools/fetch-assets
