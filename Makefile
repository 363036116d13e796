# Two commands for a new user: `make run` starts Rapport, `make test` runs the tests.
# `make check` is the fast one to run before a commit: lint, types and the unit tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every dependency at the version CI tested (docs/operations.md: refreshing it).
LOCK := requirements/lock.txt

.PHONY: run test check lint fix bench token clean lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m deploy.launcher

# Two test processes: the end-to-end modules in one, one after another (see
# tests/conftest.py), everything else shared between both.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The linter, the formatter (checking only) and the type checker on shared/; the
# settings are pyproject.toml's [tool.ruff] and [tool.mypy].
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# What `lint` can mend by itself: import order, newer syntax, the format.
fix: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# lint, then the unit tests: those that need no database, broker, process or browser
# (the `unit` marker, set in tests/conftest.py). Well under two minutes.
UNIT_TESTS := tests/shared $(wildcard tests/*/unit)
check: lint
	$(BIN)/python -m pytest -m unit -q -p no:cacheprovider $(UNIT_TESTS) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

token: $(STAMP)
	$(BIN)/rapport-token $(TOKEN_ARGS)

clean:
	rm -rf $(VENV) $(VENV)-lock var

# Re-resolve the lock file from pyproject.toml (pip-compile, in a venv of its own),
# keeping the pinned versions that still fit; LOCK_ARGS=--upgrade takes the newest
# its ranges allow. `make test` then installs and tests them.
lock:
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet pip-tools
	$(VENV)-lock/bin/pip-compile --quiet $(LOCK_ARGS) --extra test --strip-extras \
	  --no-emit-index-url --no-emit-find-links --unsafe-package rapport \
	  --unsafe-package pip --unsafe-package setuptools --output-file $(LOCK) pyproject.toml
