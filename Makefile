# The two commands a newcomer needs:
#   make run    create .venv, install nxuskit with the daemon and the CLI (nxuskit[all]),
#               run nxuskitd in the foreground
#   make test   install what the tests need (nxuskit[dev], Debian packages and the test
#               OAuth server's and the TypeScript client's npm packages), then ruff, mypy
#               --strict and the whole pytest suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# what `make run` needs: nxuskit[all] (the daemon and the CLI, no test tools); STAMP's
# nxuskit[dev] includes it
RUN_STAMP := $(VENV)/.installed-all
# the real OAuth server the OAuth tests run (oidc-provider; its node_modules is not committed)
OAUTH_SERVER := tests/oauth_server
OAUTH_STAMP  := $(OAUTH_SERVER)/node_modules/.installed
# the TypeScript client's dev dependencies: typescript and @types/node (its compiled dist/
# is committed; node_modules is not)
TS_CLIENT := clients/typescript
TS_STAMP  := $(TS_CLIENT)/node_modules/.installed

.PHONY: run test bench bench-keyring bench-team bench-quick lint typecheck system-deps oauth-server client-typescript dist clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[all]'
	touch $(RUN_STAMP)

run: $(RUN_STAMP)
	$(VENV)/bin/nxuskitd

system-deps:
	@bash packaging/install-test-deps.sh

$(OAUTH_STAMP): $(OAUTH_SERVER)/package-lock.json
	cd $(OAUTH_SERVER) && npm ci --no-audit --no-fund --loglevel=error
	touch $(OAUTH_STAMP)

oauth-server: system-deps $(OAUTH_STAMP)

$(TS_STAMP): $(TS_CLIENT)/package-lock.json
	cd $(TS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $(TS_STAMP)

client-typescript: system-deps $(TS_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check client daemon cli tests bench
	$(VENV)/bin/ruff format --check client daemon cli tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The benchmark suite runs in its quick mode first: it proves the suite works and never
# fails on a figure (the figures come from `make bench`).
test: $(STAMP) system-deps oauth-server client-typescript lint typecheck
	$(PY) bench/run.py --quick --output /dev/null
	$(PY) -m pytest

bench: $(STAMP) system-deps
	$(PY) bench/run.py

bench-keyring: $(STAMP) system-deps
	$(PY) bench/keyring_vs_daemon.py

# a team key through nxuskitd vs a direct hvac read, on a real OpenBao (bench/RESULTS-team.md)
bench-team: $(STAMP)
	$(PY) bench/team_vs_hvac.py

bench-quick: $(STAMP)
	$(PY) bench/run.py --quick --output /dev/null

dist: $(STAMP)
	PYTHON=$(PY) bash packaging/build.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
