# Two commands on a fresh machine (Python >= 3.11):
#   make run    install into .venv and start the portal on the embedded defaults
#   make test   install into .venv (with test tools and system packages) and run every test

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 7860
PYTEST_ARGS ?=
# Processes for `make test-fast`; `make test` (CI) runs in one, the browser and load suites
# measure time and would race each other.
PYTEST_WORKERS ?= 2
# A CPU build of torch for the argos extra (argostranslate → stanza → torch).
TORCH_WHEEL ?= /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl

.PHONY: run test test-fast lint install install-test install-argos system-packages bench clean

run: install
	$(BIN)/portal --port $(PORT)

test: install-test install-argos system-packages lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install-test install-argos
	$(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

install-argos: $(VENV)/.installed-argos

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

$(VENV)/.installed-argos: pyproject.toml $(VENV)/.installed-test
	@if [ -f "$(TORCH_WHEEL)" ]; then \
		$(BIN)/python -m pip install --quiet "$(TORCH_WHEEL)"; \
	elif ! $(BIN)/python -c "import torch" 2>/dev/null; then \
		echo "The argos extra needs a CPU torch: set TORCH_WHEEL to a CPU wheel, or" \
		     "pip install torch --index-url https://download.pytorch.org/whl/cpu" >&2; \
		exit 1; \
	fi
	$(BIN)/python -m pip install --quiet -e '.[test,argos]'
	touch $@

system-packages:
	scripts/system-packages

bench: install-test system-packages
	$(BIN)/python bench/faq.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/weight.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
