# gbv-risk: `make demo` and `make test` work on a fresh machine; each creates .venv if needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo test lint bench clean

help: ## List targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11; durable-rules does not build on 3.13)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP) ## Score the bundled synthetic assessments and print one plan
	@for f in rules/examples/*.yaml; do echo "== $$f"; $(BIN)/gbv-risk score $$f || exit 1; echo; done
	@echo "== plan for rules/examples/high_risk.yaml (team copy)"
	@$(BIN)/gbv-risk plan --assessment rules/examples/high_risk.yaml
	@echo "== the same plan as handed to the subject"
	@$(BIN)/gbv-risk plan --assessment rules/examples/high_risk.yaml --audience subject

test: $(STAMP) ## Run every test (lint, rule-set tests, pytest)
	$(BIN)/ruff check .
	$(BIN)/gbv-risk rules test
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

bench: $(STAMP) ## Engine and CLI benchmarks (figures as ratios against a baseline)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_cli.py

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist
