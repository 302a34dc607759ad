# The course's two commands: `make test` and `make lab`. Each sets up .venv
# first (only when missing or stale), so a fresh machine needs nothing else.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup test test-fast lab present html bench clean-notebooks lock test-browser

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch is pinned in requirements.lock to 2.13.0: the CPU build, not CUDA.
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --config-settings editable_mode=compat -e .
	touch $(STAMP)

setup: $(STAMP)

## Whole suite: lint, unit tests, learning tests, every notebook from a fresh kernel.
test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

## Unit tests only (no slow learning tests or notebook runs).
test-fast: setup
	$(PY) -m pytest -m "not slow"

## JupyterLab on the notebooks.
lab: setup
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --notebook-dir=notebooks

## Strip outputs, execution counts and widget state from every notebook.
clean-notebooks: setup
	$(PY) tools/clean_notebooks.py notebooks

## Re-pin requirements.lock from the current environment (after editing pyproject.toml).
lock: setup
	$(PY) tools/make_lock.py > requirements.lock
