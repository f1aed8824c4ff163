# Distributed Task Observatory — `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

# What `make up` needs: the runtime dependencies (requirements-runtime.lock) and the package.
$(RUNTIME_STAMP): pyproject.toml requirements-runtime.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian/Ubuntu run: sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-runtime.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $(RUNTIME_STAMP)

# Everything else the tests, linters and benchmarks need (requirements.lock: dev and bench).
$(STAMP): $(RUNTIME_STAMP) requirements.lock
	$(BIN)/python -m pip install -q -r requirements.lock
	@touch $(STAMP)

install: $(STAMP) ## Create .venv with every locked dependency (runtime, dev and bench)

up: $(RUNTIME_STAMP) ## Start the whole system (embedded backends unless *_URL are set); Ctrl+C stops it
	$(BIN)/odto up $(ARGS)

test: $(STAMP) ## Run every tier: unit, integration and e2e (what CI runs)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(STAMP) ## tests/unit: no subprocess, no network, no server; seconds
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP) ## tests/integration: real RabbitMQ/PostgreSQL/Redis, git, kubectl, promtool
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP) ## tests/e2e, tests/tui, tests/browser: whole systems as processes, Pilot, Chromium
	$(BIN)/python -m pytest tests/e2e tests/tui tests/browser $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy --strict, the import-linter contracts, and the GitHub workflows (zizmor, schema), offline
	$(BIN)/ruff check src tests benchmarks release hatch_build.py
	$(BIN)/ruff format --check src tests benchmarks release hatch_build.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/zizmor --offline .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

check: lint test release-check ## Everything CI checks (what .ci/run runs)

bench: $(STAMP) ## End-to-end benchmarks against real backends, with a Celery baseline
	$(BIN)/python -m benchmarks $(ARGS)

dist: $(STAMP) ## Build dist/ (wheel, sdist, SHA256SUMS) offline, without the checks; the image is built from it
	$(BIN)/python -m release.build

release-check: $(STAMP) ## Build dist/ (wheel, sdist, SHA256SUMS) offline and prove it: reproducible, twine, install, smoke test, install.sh
	$(BIN)/python -m release.check

lock: ## Re-resolve requirements.lock (everything: dev, bench, otel), requirements-runtime.lock (its runtime part) and requirements-otel.lock (runtime + otel: the image)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --extra otel -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --constraint requirements.lock -o requirements-runtime.lock
	$(BIN)/uv pip compile pyproject.toml --extra otel --constraint requirements.lock -o requirements-otel.lock

clean: ## Remove the virtualenv and the embedded data directory
	rm -rf $(VENV) .odto

.PHONY: help install up test unit integration e2e lint check bench dist release-check lock clean
