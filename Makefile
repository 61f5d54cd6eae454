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

.PHONY: run test lint format lock bench loadtest crashtest clean openapi vendor-docs fuzz check-docker

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

# The committed OpenAPI schema; tests/integration/test_openapi.py fails when it drifts.
openapi: $(VENV)/.runtime
	$(BIN)/python -m app openapi > openapi.json

# Swagger UI and ReDoc served from app/static (no CDN: intranets have no internet).
# Pinned versions from the npm registry; bump here and in app/docs/__init__.py together.
SWAGGER_UI_VERSION := 5.35.0
REDOC_VERSION := 2.5.4
vendor-docs:
	rm -rf var/vendor && mkdir -p var/vendor app/static/swagger-ui app/static/redoc
	cd var/vendor && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) redoc@$(REDOC_VERSION)
	tar -xzf var/vendor/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz -C var/vendor
	cp var/vendor/package/{swagger-ui-bundle.js,swagger-ui.css,favicon-32x32.png,LICENSE,NOTICE} app/static/swagger-ui/
	rm -rf var/vendor/package
	tar -xzf var/vendor/redoc-$(REDOC_VERSION).tgz -C var/vendor
	cp var/vendor/package/bundles/{redoc.standalone.js,redoc.standalone.js.LICENSE.txt} app/static/redoc/
	cp var/vendor/package/LICENSE app/static/redoc/
	rm -rf var/vendor

# ---- Robustness (docs/production.md). Every run is bounded and talks to 127.0.0.1 only.
# A PostgreSQL *server*: the scripts create and drop a scratch database on it.
PG_SERVER ?= postgresql://postgres@127.0.0.1:5432/postgres
FUZZ_EXAMPLES ?= 25
FUZZ_SECONDS ?= 180
LOAD_CLIENTS ?= 50
LOAD_SECONDS ?= 60
LOAD_WORKERS ?= 2

# Schemathesis as school, department, office and admin; SQLite unless FUZZ_DATABASE_URL is set.
fuzz: $(VENV)/.dev
	$(BIN)/python scripts/fuzz.py --max-examples $(FUZZ_EXAMPLES) --max-time $(FUZZ_SECONDS) \
		$(if $(FUZZ_DATABASE_URL),--database-url $(FUZZ_DATABASE_URL),)

# 50 clients x 60 s of reads, creates and transitions; SQLite unless LOAD_DATABASE_URL is set.
loadtest: $(VENV)/.dev
	$(BIN)/python scripts/loadtest.py --clients $(LOAD_CLIENTS) --seconds $(LOAD_SECONDS) \
		--workers $(LOAD_WORKERS) $(if $(LOAD_DATABASE_URL),--database-url $(LOAD_DATABASE_URL),)

# kill -9 during writes, restart, verify; on SQLite and on PG_SERVER (PG_SERVER= to skip it).
crashtest: $(VENV)/.dev
	$(BIN)/python scripts/crashtest.py $(if $(PG_SERVER),--database-url $(PG_SERVER),)

# The Dockerfile's build and start-up steps, run outside Docker.
check-docker:
	scripts/check_dockerfile_steps.sh
