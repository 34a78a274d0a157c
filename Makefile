# Two commands: `make demo` and `make test`. Both create .venv and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck layers unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "collectbot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/collectbot demo

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# No import cycle; domain imports only domain; only bot/slack and bot/sandbox hold a WebClient.
layers: $(STAMP)
	$(BIN)/python tests/check_layers.py

# Two pytest workers per core (each with its own SQLite copies and PostgreSQL schema): most tests
# wait on another process (the sandbox, a subprocess), so a core has room for two. PYTEST_WORKERS=0
# runs them in this process. --dist loadgroup hands out one test at a time, slow ones first
# (tests/conftest.py), so no worker is left with a queue of long tests at the end (the default
# `load` hands each worker a run of consecutive tests up front). Its xdist_group marks have no
# effect with pytest 9.2 (xdist 3.8 renames item._nodeid, which pytest no longer reads).
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(2 * (os.cpu_count() or 1))')
unit: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

# mypy (~15 s of one core, minutes on a loaded machine) runs beside pytest, whose workers mostly
# wait; each one's output is printed whole when it ends.
test: lint layers
	$(MAKE) --no-print-directory --output-sync=target -j2 typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/import.py
	$(BIN)/python bench/call_lists.py
	$(BIN)/python bench/interactions.py
	$(BIN)/python bench/fanout.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
