# Two commands for a new user: `make run` starts Rapport, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench token clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m deploy.launcher

# Two test processes: the end-to-end modules in one, one after another (see
# tests/conftest.py), everything else shared between both.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

token: $(STAMP)
	$(BIN)/rapport-token $(TOKEN_ARGS)

clean:
	rm -rf $(VENV) var
