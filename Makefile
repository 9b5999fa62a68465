# Two commands do all the set-up on a fresh machine (Python 3.11+):
#   make run    install into .venv, then start the app (sample data on first start)
#   make test   install test tools, Debian chromium + CJK fonts, then lint and every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
DB ?=

.PHONY: run test lint bench

$(BIN)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev: $(BIN)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.runtime
	$(BIN)/python serve.py --server.port $(PORT) -- $(if $(DB),--db $(DB))

lint: $(BIN)/.dev
	$(BIN)/ruff check .

test: $(BIN)/.dev
	scripts/install_browser_deps.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
