# Portail Famille – two commands on a fresh machine: `make run` and `make test`.
PORT ?= 5000
HOST ?= 127.0.0.1
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test install install-test db chromium nginx bench bench-instructions bench-concurrency bench-rush screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

## Bring the schema up to date (migrations/, as upgrade-db) and load the demo commune into an empty
## database; existing data is kept.
db: install
	$(BIN)/flask --app app init-db

## Serve the portal on http://127.0.0.1:$(PORT) (make run PORT=5055), with the background worker
## (mail delivery, expiry, payment checks, invoicing runs) beside it; Ctrl-C stops both.
run: db
	@$(BIN)/flask --app app worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

## Debian's Chromium for browser tests, when missing and running as root (otherwise they are skipped, and fail in CI).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
	      || echo "Chromium could not be installed: browser tests will be skipped."; \
	  else echo "Not root: Chromium not installed, browser tests will be skipped."; fi; \
	fi

## nginx, only to check deploy/nginx.conf with `nginx -t` (tests/test_deploy_files.py), when missing and root.
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] && [ "$$(id -u)" = "0" ]; then \
	  (apt-get install -y -q nginx-light >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q nginx-light >/dev/null 2>&1)) \
	    || echo "nginx could not be installed: its check will be skipped."; \
	fi

install-test: $(VENV)/.installed-test node_modules/.package-lock.json chromium nginx

## Run the whole suite (unit, views, browser). PYTEST_ARGS passes options to pytest.
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks (print figures; nothing is asserted): reservations and invoicing at 2,000 households, page weight,
## SQL queries per parents' page, the parents' pages at 10,000 households against issue 16's targets
## (bench/pages.py, README « Temps des pages »: the commune is built once, cached in bench/.cache/; PAGES_ARGS
## passes options), then the Thursday rush (bench-rush, below). BENCH_DATABASE_URL=postgresql://…/portail_bench
## adds PostgreSQL: the invoicing, the pages side by side with SQLite, and the rush (that database is dropped and
## recreated: its name must contain « bench »).
PAGES_ARGS ?=
bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_reservations.py
	$(BIN)/python bench/bench_invoicing.py
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python bench/bench_invoicing.py; fi
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/page_queries.py
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then $(BIN)/python bench/pages.py --both "$(BENCH_DATABASE_URL)" $(PAGES_ARGS); \
	else $(BIN)/python bench/pages.py $(PAGES_ARGS); fi
	$(MAKE) --no-print-directory bench-rush

## Instructions per request of the parents' pages (bench/instructions.py, valgrind's callgrind): a figure the
## machine's load does not move, to compare two versions of the code (README « Requêtes par page »).
bench-instructions: $(VENV)/.installed-test
	$(BIN)/python bench/instructions.py

## The README's screenshots of the week grid (docs/grille-390.png, docs/grille-1280.png), from a live server.
screenshots: install-test
	$(BIN)/python bench/screenshots.py

## Concurrency and crash recovery: gunicorn and the worker on a fresh instance, 20 clients for 60 s,
## then kills and restarts; exits 1 on any error. BENCH_DATABASE_URL=postgresql://…/portail_bench
## adds the PostgreSQL run (that database is dropped and recreated).
bench-concurrency: $(VENV)/.installed-test
	$(BIN)/python bench/concurrency.py
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then $(BIN)/python bench/concurrency.py --database-url "$(BENCH_DATABASE_URL)"; fi
	$(BIN)/python bench/crash.py

## The Thursday 17:55 rush (README « Heure de pointe »): gunicorn on 5,000 households (built once, cached in
## bench/.cache/), 2,000 parents arriving 20 a second, then past 18:00; exits 1 on any error. RUSH_ARGS passes options;
## BENCH_DATABASE_URL=postgresql://…/portail_bench adds the PostgreSQL run (that database is dropped and recreated).
RUSH_ARGS ?=
bench-rush: $(VENV)/.installed-test
	$(BIN)/python bench/rush.py $(RUSH_ARGS)
	@if [ -n "$(BENCH_DATABASE_URL)" ]; then $(BIN)/python bench/rush.py --database-url "$(BENCH_DATABASE_URL)" $(RUSH_ARGS); fi

clean:
	rm -rf $(VENV) node_modules .pytest_cache
