# crypto-analyzer — the two set-up commands are `make demo` and `make test`; both work on a fresh
# machine from a clean clone (they create .venv and install everything they need).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast lint format bench golden clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "crypto-analyzer needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,s3,api,signing,distributed]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	rm -rf .demo
	$(BIN)/crypto-analyzer demo --dir .demo

test: install
	bash scripts/test_services.sh
	$(BIN)/python -m pytest -q -n auto --dist loadfile
	COLUMNS=120 bash scripts/golden_run.sh > golden_run.log 2>&1 || (cat golden_run.log; exit 1)
	@tail -n 1 golden_run.log

test-fast: install
	$(BIN)/python -m pytest -q -n auto --dist loadfile -m "not slow and not postgres"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python benchmarks/bench_dataset_id.py
	$(BIN)/python benchmarks/bench_research.py
	$(BIN)/python benchmarks/bench_stats.py
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_history.py
	$(BIN)/python benchmarks/bench_cli_startup.py

golden: install
	COLUMNS=120 bash scripts/golden_run.sh

clean:
	rm -rf .demo golden_run.log .pytest_cache .ruff_cache .mypy_cache build dist src/*.egg-info
