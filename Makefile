# Two commands matter: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(PIP) -e ".[demo]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PIP) -e ".[test]"
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(VENV)/bin/kiln demo

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy src

test: lint
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(VENV)/bin/pytest

# Each benchmark installs its peers (MLflow, DVC, Feast, Dagster, ...) into their own
# virtual environments under $${KILN_BENCH_PEERS:-~/.cache/kiln-bench}; see docs/benchmarks.md.
BENCHES ?= tracking data features pipelines serving server governance monitoring flavors sweeps
bench: $(VENV)/.test-installed
	set -e; for b in $(BENCHES); do $(PY) bench/bench_$$b.py; done

clean:
	rm -rf $(VENV) .kiln .mypy_cache .ruff_cache .pytest_cache
