# Every target sets up what it needs: a fresh clone runs `make test` as is.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv tools check format test demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]" --group dev --group bench
	touch $(STAMP)

venv: $(STAMP)

# Servers and tools the tests run for real: Redis and promtool come from
# Debian's packages; PostgreSQL 15 and kubectl are on the machine already.
tools:
	@command -v redis-server >/dev/null && command -v promtool >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server prometheus >/dev/null)

check: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: venv tools
	$(BIN)/pytest --cov --cov-report=term

demo: venv
	$(BIN)/greenlang-runtime run examples.minimal.agent:runtime

bench: venv
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage build dist
