# Two commands do all the set-up on a fresh machine (Python 3.11+):
#   make run    install into .venv, then start the app (sample data on first start)
#   make test   install test tools and Debian packages (chromium, CJK fonts, Java,
#               nginx, PostgreSQL), then lint and every test
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

# Cluster mode on one host (README: 集群模式): N app processes behind nginx
# (Debian's package: apt-get install nginx-light) on PORT.
N ?= 3
.PHONY: cluster
cluster: $(BIN)/.runtime
	$(BIN)/python -m governance cluster --processes $(N) --port $(PORT) $(if $(DB),--db $(DB))

lint: $(BIN)/.dev
	$(BIN)/ruff check .

test: $(BIN)/.dev
	scripts/install_system_deps.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest
