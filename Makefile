# The README's two commands are `make book` and `make test`. Both first run
# `setup`, which creates .venv, installs every pin and edunn itself, a CJK font
# (Debian package) and a local copy of MathJax. Setup reruns only when
# requirements.txt or pyproject.toml change.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SETUP_STAMP := $(VENV)/.edunn-setup-stamp

MATHJAX_VERSION := 3.2.2
# Sphinx copies _vendor/ into the site root (html_extra_path in _config.yml).
MATHJAX_DIR := _vendor/_static/mathjax
MATHJAX_JS := $(MATHJAX_DIR)/tex-mml-chtml.js

# The device the chapters and tests run on: cpu, or cuda where cupy and a GPU exist.
EDUNN_DEVICE ?= cpu
export EDUNN_DEVICE

PYTEST_WORKERS ?= 2
PORT ?= 8000
# Notebooks for `make execute`; empty means every chapter.
NOTEBOOKS ?=

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with .nbval_sanitize.cfg

.PHONY: help setup font book test serve execute check-notebooks clean distclean

help:
	@echo "make book       build the site into _build/html (sets everything up first)"
	@echo "make test       run the unit tests and check every chapter notebook with nbval"
	@echo "make serve      serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make execute    re-execute chapter notebooks in place (NOTEBOOKS='chapters/01_*.ipynb')"
	@echo "make clean      remove the built site and test caches"
	@echo "make distclean  also remove .venv and the local MathJax copy"

setup: $(SETUP_STAMP) $(MATHJAX_JS) font

# edunn is installed (editable) because the notebook kernel runs in the chapter's
# folder, where `import edunn` would not find the repository root.
$(SETUP_STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(MATHJAX_JS):
	tools/fetch_mathjax.sh $(MATHJAX_VERSION) $(MATHJAX_DIR)

font:
	tools/install_cjk_font.sh

# --all re-reads every page, so every notebook is executed against the current
# edunn. An incremental build would skip notebooks whose file did not change.
book: setup
	$(BIN)/jupyter-book build . --all -W --keep-going
	$(BIN)/python tools/check_site.py _build/html
	@echo "Built $(CURDIR)/_build/html/index.html"

check-notebooks: setup
	$(BIN)/python tools/check_notebooks.py

test: check-notebooks
	$(BIN)/python -m pytest tests -n $(PYTEST_WORKERS) --dist loadfile
	$(BIN)/python -m pytest $(NBVAL_FLAGS) -n $(PYTEST_WORKERS) --dist loadfile chapters

serve:
	@test -f _build/html/index.html || { echo "error: _build/html/index.html not found; run 'make book' first" >&2; exit 1; }
	@echo "Serving http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

execute: setup
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOKS)

clean:
	rm -rf _build .pytest_cache .hypothesis

distclean: clean
	rm -rf $(VENV) _vendor *.egg-info
