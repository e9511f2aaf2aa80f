# Synergy Portal. `make run` and `make test` need nothing but Python 3.11: they create the
# virtualenv, install, and (unless DATABASE_URL / REDIS_URL are set) start a private
# PostgreSQL and Redis under .data/.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run test bench lint format clean-data

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m uv pip install -q --python $(BIN)/python -e '.[dev]' \
	  || $(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	PORT=$(PORT) $(BIN)/python -m synergy_portal.dev_run --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m synergy_portal.devservices run -- $(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean-data:
	rm -rf .data
