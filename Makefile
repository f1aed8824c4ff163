# Distributed Task Observatory — `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian/Ubuntu run: sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the locked dependencies

up: $(STAMP) ## Start the whole system (embedded backends unless *_URL are set); Ctrl+C stops it
	$(BIN)/odto up $(ARGS)

test: $(STAMP) ## Run the whole test suite (integration tests use local RabbitMQ/PostgreSQL/Redis)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(STAMP) ## Run only the fast unit tests
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy and the import-linter layer contracts
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test ## Everything CI checks

bench: $(STAMP) ## End-to-end benchmarks against real backends, with a Celery baseline
	$(BIN)/python -m benchmarks $(ARGS)

lock: ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench -o requirements.lock

clean: ## Remove the virtualenv and the embedded data directory
	rm -rf $(VENV) .odto

.PHONY: help install up test unit lint check bench lock clean
