# Lillo Dashboard — `make run` serves the dashboard, `make test` runs every test, `make bench`
# measures. Each target installs what it needs first, so a fresh machine needs only Python 3.11+.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# apt-get needs root; elsewhere use sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench browser-deps clean-data help

help:
	@echo "make run    serve the dashboard on http://localhost:$(PORT) (embedded demo database unless DATABASE_URL is set)"
	@echo "make test   install test dependencies (incl. Debian's chromium) and run lint + the whole test suite"
	@echo "make bench  measure views, pages and server memory on 10 M messages (built once into data/bench-10m)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

run: $(VENV)/.runtime-installed
	$(BIN)/python -m dashboard up
	$(BIN)/streamlit run serve.py --server.port $(PORT)

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.dev-installed browser-deps lint
	$(BIN)/pytest

bench: $(VENV)/.dev-installed
	$(BIN)/python -m dashboard bench --scale 10m

clean-data:
	rm -rf data/pg
