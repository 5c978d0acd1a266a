# The two commands a newcomer needs:
#   make run    create .venv, install nxuskit, run nxuskitd in the foreground
#   make test   install what the tests need (Python and Debian packages), then ruff,
#               mypy --strict and the whole pytest suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench bench-quick lint typecheck system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/nxuskitd

system-deps:
	@bash packaging/install-test-deps.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check client daemon cli tests bench
	$(VENV)/bin/ruff format --check client daemon cli tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: $(STAMP) system-deps lint typecheck
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run.py

bench-quick: $(STAMP)
	$(PY) bench/run.py --quick --output /dev/null

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
