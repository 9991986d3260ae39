# Two commands on a fresh machine (Python >= 3.11):
#   make run    install into .venv and start the portal on the embedded defaults
#   make test   install into .venv (with test tools and system packages) and run every test

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 7860
PYTEST_ARGS ?=

.PHONY: run test test-fast lint install install-test system-packages bench clean

run: install
	$(BIN)/portal --port $(PORT)

test: install-test system-packages lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install-test
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

system-packages:
	scripts/system-packages

bench: install-test system-packages
	$(BIN)/python bench/faq.py
	$(BIN)/python bench/weight.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
