# ppsgate developer entry points. `make help` lists them.
# Each target creates .venv on first use and installs the locked dependencies into it.

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast lint bench lock clean docs

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ppsgate needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP) ## Run the gateway with a demo of the whole flow (SQLite, embedded Rego; PORT=, DEMO_DIR=)
	$(BIN)/ppsgate demo --port $(PORT) $(if $(DEMO_DIR),--data-dir $(DEMO_DIR))

test: $(STAMP) lint ## Run the whole test suite (lint, types, tests on SQLite and PostgreSQL)
	$(BIN)/python -m pytest

test-fast: $(STAMP) ## Tests without lint, skipping slow ones
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP) ## ruff (lint and format), mypy --strict and lint-imports (layers, no cycles)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP) ## Run the benchmarks (they print figures and ratios)
	$(BIN)/python -m bench

docs: $(STAMP) ## Regenerate the generated docs (CLI reference)
	$(BIN)/python -m gateway.cli.reference > docs/cli-reference.md

lock: $(STAMP) ## Re-resolve requirements.lock from pyproject.toml (uv, a dev dependency)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra pg --python-version 3.11 -o requirements.lock

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

.PHONY: audit fuzz
FUZZ_EXAMPLES ?= 200

audit: $(STAMP) ## Known vulnerabilities in the installed dependencies (pip-audit; needs PyPI's JSON API)
	$(BIN)/pip-audit --strict --skip-editable --progress-spinner off

fuzz: $(STAMP) ## A longer, random schemathesis run over the whole API (FUZZ_EXAMPLES per operation)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/functional/test_fuzz.py -p no:cacheprovider -s
