# Two commands do all the set-up on a fresh machine with Python 3.11 and make:
#   make run    serve the API on the embedded SQLite database with demo data
#   make test   run the test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DATABASE_URL ?= sqlite:///./var/campus_safety.db
PYTEST_ARGS ?=

.PHONY: run test lint format lock bench loadtest crashtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	mkdir -p var
	$(BIN)/python -m app migrate
	DEMO_MODE=true $(BIN)/python -m app seed-demo
	DEMO_MODE=true $(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

bench: $(VENV)/.dev
	$(BIN)/python scripts/bench.py
