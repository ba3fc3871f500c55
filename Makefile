# salesbook developer commands. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/salesbook demo --force demo-workspace

test: $(STAMP)
	$(VENV)/bin/ruff check salesbook tests scripts
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check salesbook tests scripts
	$(VENV)/bin/ruff format --check salesbook tests scripts

bench: $(STAMP)
	$(PY) scripts/bench.py

# Debian programs the real-client tests use (LibreOffice, Chromium, pdftotext).
# Installed only when missing and when we may (root); tests skip with a reason otherwise.
system-deps:
	bash scripts/install-system-deps.sh

clean:
	rm -rf $(VENV) demo-workspace bench dist build .pytest_cache .hypothesis
