# Two commands do the whole set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint matrix bench demo venv clean client

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,example,matrix]'
	touch $(STAMP)

venv: $(STAMP)

# htmx 2 and 4 for the browser tests, and eslint for `make lint`, from the npm registry, as the
# lock file pins them.
JS_STAMP := tests/js/node_modules/.installed
$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/js && npm ci --silent --no-audit --no-fund && touch node_modules/.installed; \
	else echo "npm not found: the htmx browser tests will say how to install it" >&2; fi

# The page client as pages carry it inline: terser's output of giosg.js (commit both; a test
# checks that giosg.min.js is what this makes of giosg.js now).
CLIENT_DIR := giosg_django/static/giosg_django
client: $(JS_STAMP)
	cd tests/js && npm run --silent minify > ../../$(CLIENT_DIR)/giosg.min.js

# pytest exits 5 when it collected no test: that is a failure here, never a silent pass.
test: $(STAMP) $(JS_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

# Every supported Django/Python pair (noxfile.py), the browser tests on the newest pair.
matrix: $(STAMP)
	$(BIN)/nox $(NOX_ARGS)

# giosg's cost as ratios against the same work without it, and the nearest peer on the same
# page (django-analytical, from the bench dependency group).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --group bench
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/storage.py

# Python (ruff, mypy --strict) and the page client (eslint, installed with the test JS).
lint: $(STAMP) $(JS_STAMP)
	$(BIN)/ruff check giosg_django tests noxfile.py benchmarks
	$(BIN)/ruff format --check giosg_django tests noxfile.py benchmarks
	$(BIN)/mypy
	tests/js/node_modules/.bin/eslint giosg_django/static/giosg_django/

# The example site on http://127.0.0.1:8000 (SQLite in example_project/db.sqlite3 unless
# DATABASE_URL says otherwise; the other settings are in example_project/demo_site/settings.py).
# Safe to run again: migrate applies only what is missing, create_demo_users resets the demo
# users. Ctrl-C stops it.
demo: $(STAMP)
	$(BIN)/python example_project/manage.py migrate --noinput
	$(BIN)/python example_project/manage.py create_demo_users
	$(BIN)/python example_project/manage.py runserver 127.0.0.1:8000

clean:
	rm -rf $(VENV) .pytest_cache
