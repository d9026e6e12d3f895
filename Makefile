# Two commands do the whole set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: test lint matrix bench demo docs docs-serve dist venv clean client

# The virtualenv with a pip that knows PEP 735 dependency groups (`pip install --group`, 25.1).
PIP_STAMP := $(VENV)/.pip
$(PIP_STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	touch $@

# One stamp per dependency group (pyproject.toml), so that each target installs only what it
# needs: `make demo` on a fresh clone gets the package and django-environ, no test tools, and
# `make test` after it adds the test group. The package itself is installed editable each time,
# and again when its version changes (giosg_django/__init__.py), so its metadata says the new one.
$(VENV)/.group-%: pyproject.toml giosg_django/__init__.py $(PIP_STAMP)
	$(BIN)/python -m pip install --quiet -e . --group $*
	touch $@

venv: $(VENV)/.group-test $(VENV)/.group-lint

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

# Coverage of giosg_django (branches; [tool.coverage] in pyproject.toml holds the floor). The
# floor is the whole suite's: a run of a part (PYTEST_ARGS=tests/test_visit.py) reports its
# coverage without failing under it.
COV_ARGS = --cov --cov-report=term-missing:skip-covered $(if $(PYTEST_ARGS),--cov-fail-under=0)

# pytest exits 5 when it collected no test: that is a failure here, never a silent pass.
test: $(VENV)/.group-test $(JS_STAMP)
	$(BIN)/python -m pytest $(COV_ARGS) $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

# Every supported Django/Python pair (noxfile.py), the browser tests on the newest pair.
matrix: $(VENV)/.group-matrix
	$(BIN)/nox $(NOX_ARGS)

# giosg's cost as ratios against the same work without it, and the nearest peer on the same
# page (django-analytical, from the bench dependency group; storage.py starts Redis with the
# tests' own helper, so the test group too).
bench: $(VENV)/.group-test $(VENV)/.group-bench
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/storage.py

# Python (ruff, mypy --strict) and the page client (eslint, installed with the test JS).
lint: $(VENV)/.group-lint $(JS_STAMP)
	$(BIN)/ruff check giosg_django tests noxfile.py benchmarks
	$(BIN)/ruff format --check giosg_django tests noxfile.py benchmarks
	$(BIN)/mypy
	tests/js/node_modules/.bin/eslint giosg_django/static/giosg_django/

# The example site on http://127.0.0.1:8000 (SQLite in example_project/db.sqlite3 unless
# DATABASE_URL says otherwise; the other settings are in example_project/demo_site/settings.py).
# Safe to run again: migrate applies only what is missing, create_demo_users resets the demo
# users. Ctrl-C stops it.
demo: $(VENV)/.group-example
	$(BIN)/python example_project/manage.py migrate --noinput
	$(BIN)/python example_project/manage.py create_demo_users
	$(BIN)/python example_project/manage.py runserver 127.0.0.1:8000

# The documentation site (mkdocs.yml, docs/): warnings are errors.
docs: $(VENV)/.group-docs
	$(BIN)/mkdocs build --strict

# The same, served with live reload on http://127.0.0.1:8001 (the demo has 8000).
docs-serve: $(VENV)/.group-docs
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

# The sdist and wheel into dist/, twine's check, and the example site's `manage.py check` in a
# clean virtualenv that has the built wheel, not this source tree (scripts/check_dist.sh).
dist: $(VENV)/.group-dist
	scripts/check_dist.sh $(BIN)/python

clean:
	rm -rf $(VENV) .pytest_cache .coverage dist site
