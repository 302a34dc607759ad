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

## Whole suite: lint, unit tests, learning tests, every notebook from a fresh kernel; one test process per
## core, at most 4 (pytest-xdist).
test: setup
	tools/system_packages.sh postgresql egl
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n auto --maxprocesses 4

## Unit tests only (no slow learning tests or notebook runs).
test-fast: setup
	$(PY) -m pytest -m "not slow and not browser"

## JupyterLab on the notebooks.
lab: setup
	tools/system_packages.sh egl
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --notebook-dir=notebooks

## Strip outputs, execution counts and widget state from every notebook.
clean-notebooks: setup
	$(PY) tools/clean_notebooks.py notebooks

## Re-pin requirements.lock from the current environment (after editing pyproject.toml).
lock: setup
	$(PY) tools/make_lock.py > requirements.lock

## Every notebook in headless Chromium (JupyterLab and Voila; the Chinese edition's in JupyterLab, one in
## Voila), and the static site built afresh, both editions (every slider through all its values, no
## kernel): sliders move, outputs change, no traceback or console error. One test at a time: with the two
## test files side by side (pytest-xdist), a Voila page twice in three CI runs left a slider unrendered or
## its output unchanged, and never in the runs one test at a time.
test-browser: setup
	tools/system_packages.sh chromium
	$(PY) -m pytest tests/browser -m browser -v

## Classroom mode: one notebook as a Voila app on 127.0.0.1 (code hidden). NB names it below notebooks/:
## make present NB=04_kl_trust_region (English), make present NB=zh/04_kl_trust_region (Chinese edition).
present: setup
	@test -n "$(NB)" || { echo "usage: make present NB=04_kl_trust_region (English) or NB=zh/04_kl_trust_region (Chinese): a notebook in notebooks/"; exit 2; }
	@test -f notebooks/$(NB).ipynb || { echo "no notebook notebooks/$(NB).ipynb (the Chinese edition is in notebooks/zh/: NB=zh/04_kl_trust_region)"; exit 2; }
	$(VENV)/bin/voila --Voila.ip=127.0.0.1 \
	  --VoilaConfiguration.multi_kernel_manager_class=jupyter_server.services.kernels.kernelmanager.MappingKernelManager \
	  notebooks/$(NB).ipynb

## Execute every notebook and render the course to static HTML: English in site/ (open site/index.html),
## the Chinese edition's notebooks in site/zh/, a language switch on every page; every slider works there
## without a kernel (frames drawn in advance).
html: setup
	$(PY) tools/build_site.py site

## trpo_lite against sb3-contrib's TRPO (3 envs x 5 seeds x 100k steps; about 10 minutes) -> benchmarks/RESULTS.md
bench: setup
	$(PY) benchmarks/benchmark.py
