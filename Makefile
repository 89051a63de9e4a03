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

DEMO_DB := .demo/pilot.sqlite
DEMO_AS_OF := 2026-09-01
DEMO_KEYS := .demo/keys.json
GBV := GBV_RISK_KEYS= GBV_RISK_KEY_FILE=$(DEMO_KEYS) $(BIN)/gbv-risk --db $(DEMO_DB)

demo: $(STAMP) ## Synthetic pilot on a fresh SQLite file: compliance by district, one case's plan
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_KEYS); mkdir -p .demo
	@echo "== scoring a bundled synthetic assessment"
	@$(BIN)/gbv-risk score rules/examples/high_risk.yaml
	@echo; echo "== a fresh case store with a synthetic pilot ($(DEMO_DB))"
	@$(GBV) db init
	@$(GBV) demo-data --cases 2000 --seed 1 --as-of $(DEMO_AS_OF)
	@echo; echo "== compliance on $(DEMO_AS_OF), by district"
	@$(GBV) compliance check --as-of $(DEMO_AS_OF) --summary district
	@echo; echo "== the plan of case NK-01-00007 on $(DEMO_AS_OF) (team copy)"
	@$(GBV) plan NK-01-00007 --as-of $(DEMO_AS_OF)
	@echo; echo "== the same plan as handed to the subject"
	@$(GBV) plan NK-01-00007 --as-of $(DEMO_AS_OF) --audience subject
	@echo; echo "== a synthetic identity, encrypted under a demo key file ($(DEMO_KEYS))"
	@$(GBV) keys init
	@$(GBV) case add NK-DEMO-1 --subject S-DEMO-1 --district Nukus --mahalla "Nukus pilot mahalla 1" \
		--officer inspector-nukus-1 --opened $(DEMO_AS_OF) --name "Synthetic Person Bir" \
		--national-id "AA 000-00-01"
	@$(GBV) case find --national-id aa0000001
	@echo; echo "== the audit trail: every change above, hash-chained"
	@$(GBV) audit verify

test: $(STAMP) ## Run every test (lint, rule-set tests, pytest on SQLite and PostgreSQL)
	@bash .ci/postgres-up
	$(BIN)/ruff check .
	$(BIN)/gbv-risk rules test
	$(BIN)/python -m pytest -q -n 2 --durations=15

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

bench: $(STAMP) ## Engine and CLI benchmarks (figures as ratios against a baseline)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_store.py

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist
