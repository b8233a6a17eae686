# Two commands for a new user:  `make book` (everything) and `make test` (the tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= default
JOBS ?= 2
STAMP := $(VENV)/.fclib-installed
# MathJax 3 is served from the book's own static files (offline pages show typeset math):
# npm fetches it into the venv, the es5 bundle is copied to book/_static/mathjax (gitignored),
# and _config.yml points Sphinx's mathjax_path at it.
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax/tex-mml-chtml.js
NPM_PREFIX := $(VENV)/npm

.PHONY: setup fashion-mnist book run test bench gpu-check clean-book help notebooks

help:
	@echo "make book     set up, train, record, execute every chapter and build the HTML book (PROFILE=$(PROFILE))"
	@echo "make test     run the test suite (unit tests, paper dry run, smoke-profile book)"
	@echo "make gpu-check  the device check on a CUDA machine (gpu tests, then paper-scale timings; < 5 min)"
	@echo "make gpu-wheels the wheels the GPU machine lacks, into .whl/ (needs a package registry)"
	@echo "make bench    STTC benchmarks (sttcpy, 8,192 x 8,192; long) and response fits (after make book)"
	@echo "make notebooks  regenerate notebooks/ (one .ipynb per chapter and workshop page, no outputs) from book/"

# The pinned set goes in with uv (pip installs it too, about three times slower: it unpacks and
# byte-compiles one package after another; measured on two cores from an empty cache, 125 s
# against 39 s). Byte-compiled at install: where PYTHONDONTWRITEBYTECODE is set, nothing imported
# later would be cached. uv reads neither pip's configuration nor its find-links, where a machine
# may keep its CPU build of torch (PIP_FIND_LINKS, or `pip config`): they are passed on.
# `make setup INSTALLER=pip` installs the same set with pip alone (where uv cannot be had).
INSTALLER ?= uv
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check
ifeq ($(INSTALLER),uv)
# expanded only where the set-up runs (`pip config` takes 0.4 s, every make otherwise)
FIND_LINKS = $(or $(PIP_FIND_LINKS),$(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null))
INSTALL = $(UV) pip install --quiet --python $(PY) --compile-bytecode $(foreach d,$(FIND_LINKS),--find-links $(d))
else ifeq ($(INSTALLER),pip)
INSTALL := $(PIP_INSTALL)
else
$(error INSTALLER must be uv or pip, got '$(INSTALLER)')
endif

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(if $(filter uv,$(INSTALLER)),$(PIP_INSTALL) uv==$(UV_VERSION))
	$(INSTALL) -r requirements.txt
	$(INSTALL) --no-deps spikingjelly==2.0.0
	$(INSTALL) --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(MATHJAX):
	command -v npm >/dev/null || (apt-get update && apt-get install -y npm)
	npm install --silent --no-audit --no-fund --prefix $(NPM_PREFIX) mathjax@$(MATHJAX_VERSION)
	rm -rf book/_static/mathjax
	mkdir -p book/_static
	cp -r $(NPM_PREFIX)/node_modules/mathjax/es5 book/_static/mathjax
	test -f $(MATHJAX)

# Fashion-MNIST (the fashion profile): Debian's dataset-fashion-mnist, unless
# $FCLIB_FASHION_MNIST points to a folder holding the four IDX files.
FASHION_MNIST := /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz

fashion-mnist:
	@if [ -n "$$FCLIB_FASHION_MNIST" ] || [ -f $(FASHION_MNIST) ]; then :; else \
	  (apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=600 dataset-fashion-mnist) \
	  || echo "warning: could not install dataset-fashion-mnist; the fashion profile needs it (or FCLIB_FASHION_MNIST)"; fi

setup: $(STAMP) $(MATHJAX) fashion-mnist

book: setup
	$(PY) -m fclib.pipeline book --profile $(PROFILE) --jobs $(JOBS)

run: $(STAMP)
	$(PY) -m fclib.pipeline run --profile $(PROFILE)

# The browser test (tests/test_browser.py) opens every page in headless Chromium; here it
# must run, not skip. Two pytest-xdist workers (TEST_JOBS): every test of the smoke run and
# the smoke book runs in one of them (tests/conftest.py groups them), the rest in either.
TEST_JOBS ?= 2
test: setup
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	FCLIB_REQUIRE_BROWSER=1 $(PY) -m pytest -n $(TEST_JOBS) --dist loadgroup --durations=25

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check sttcpy==1.2.0
	$(PY) benchmarks/bench_sttc.py
	$(PY) benchmarks/bench_response.py

# On the GPU machine (see book/gpu.md): its own python3, no set-up, no network; the packages
# it lacks come as wheels in .whl/ (make gpu-wheels, here). The gpu-marked tests, then the
# paper-scale table beside this machine's CPU figures and the paper's (< 5 min on an H200).
# PYTHON=... to use another interpreter; ARGS="--device cpu --small" is the dry run.
gpu-check:
	PYTHON=$(PYTHON) bash benchmarks/gpu_check.sh $(ARGS)

# Where pip reaches a registry: download the wheels of benchmarks/gpu_wheels.txt into .whl/
# (CPython 3.12, manylinux x86-64) to carry to the GPU machine with the checkout.
gpu-wheels:
	PYTHON=$(PYTHON) bash benchmarks/gpu_check.sh --download

# notebooks/: every chapter and workshop page as a plain .ipynb without outputs, converted from
# its MyST source by jupytext (fclib.pipeline.notebooks: the cells of read_chapter, ids derived
# from the cells' contents, behind one cell that installs fclib where it is missing, as on
# Colab; workshop solutions collapsed). The MyST file is the source; tests/test_notebooks.py
# fails when a notebook differs from what it gives.
notebooks: $(STAMP)
	$(PY) -c 'from fclib.pipeline.notebooks import write_notebooks; write_notebooks()'

# _build/ holds the executed chapters and the HTML (book/chapters/*.ipynb: where an older fclib
# put the executed chapters)
clean-book:
	rm -rf _build book/chapters/*.ipynb
