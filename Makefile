# Two commands for a new user:  `make book` (everything) and `make test` (the tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= default
STAMP := $(VENV)/.fclib-installed

.PHONY: setup book run test bench clean-book help

help:
	@echo "make book     set up, train, record, execute every chapter and build the HTML book (PROFILE=$(PROFILE))"
	@echo "make test     run the test suite (unit tests, paper dry run, smoke-profile book)"
	@echo "make bench    STTC benchmarks (sttcpy, 8,192 x 8,192; long) and response fits (after make book)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps spikingjelly==2.0.0
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

book: $(STAMP)
	$(PY) -m fclib.pipeline book --profile $(PROFILE)

run: $(STAMP)
	$(PY) -m fclib.pipeline run --profile $(PROFILE)

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check sttcpy==1.2.0
	$(PY) benchmarks/bench_sttc.py
	$(PY) benchmarks/bench_response.py

clean-book:
	rm -rf _build book/chapters/*.ipynb
