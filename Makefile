# Every target sets up what it needs: a fresh clone runs `make test` as is.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv tools check format test demo bench clean checkov

$(STAMP): pyproject.toml Makefile
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

# The example agent with nothing configured; the curl lines come from its README.
# The demo needs the package and its extras, not the test and benchmark tools:
# a fresh clone serves it in well under a minute.
DEMO_STAMP := $(VENV)/.demo-installed

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(DEMO_STAMP)

# The recipe is one exec: Ctrl+C reaches the runtime, which drains and exits 0
# (make itself still reports the SIGINT it received with status 130, silently).
demo: $(DEMO_STAMP)
	@exec scripts/demo.sh $(BIN)

bench: venv
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m benchmarks

# checkov (about 400 MB) is not part of `make test`. It runs on the production
# overlay of the example agent, built by kubectl. It gets a venv of its own inside
# $(VENV) because it pins packaging 23.2, which the project's hatchling refuses.
CHECKOV := $(VENV)/checkov/bin/checkov
checkov: venv
	test -x $(CHECKOV) || ($(PYTHON) -m venv $(VENV)/checkov && $(VENV)/checkov/bin/python -m pip install --quiet checkov)
	rm -rf build/checkov && mkdir -p build/checkov
	$(BIN)/greenlang-runtime manifests --project examples/cbam_calculator --environment production --output build/checkov/deploy
	kubectl kustomize build/checkov/deploy/overlays/production > build/checkov/production.yaml
	$(CHECKOV) --framework kubernetes --skip-download --compact -f build/checkov/production.yaml

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage build dist
