# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint typecheck unit base-install-check clean portal portal-client \
	portal-client-check portal-lint portal-typecheck portal-test

# The portal's single-page app (portal-ui/: TypeScript, React, Vite), built into the package
# (src/modelyard/server/spa/dist/, not committed) with the machine's Node.js and npm. `npm ci`
# runs only when node_modules is missing or the lockfile changed (the stamp lives inside
# node_modules, so deleting that folder installs again); the build only when a source changed.
UI := portal-ui
UI_INSTALLED := $(UI)/node_modules/.modelyard-npm-ci
UI_DIST := src/modelyard/server/spa/dist
UI_BUILT := $(UI_DIST)/index.html
UI_SOURCES := $(shell find $(UI)/src -type f) $(UI)/index.html $(UI)/vite.config.ts \
	$(UI)/tsconfig.json $(UI)/package.json
UI_BIN := $(UI)/node_modules/.bin

$(UI_INSTALLED): $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(UI_BUILT): $(UI_INSTALLED) $(UI_SOURCES)
	cd $(UI) && npm run --silent build
	touch $@

portal: $(UI_BUILT)

# The TypeScript client's types, generated from the server's OpenAPI document (no server
# running: modelyard.server.openapi_dump). Both files are committed; `portal-client-check`
# (part of `make lint`) fails when they no longer match the server's routes.
portal-client: $(INSTALLED) $(UI_INSTALLED)
	$(BIN)/python -m modelyard.server.openapi_dump $(UI)/openapi.json
	$(UI_BIN)/openapi-typescript $(UI)/openapi.json -o $(UI)/src/api/schema.d.ts --silent

portal-client-check: $(INSTALLED) $(UI_INSTALLED)
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	$(BIN)/python -m modelyard.server.openapi_dump "$$scratch/openapi.json" && \
	$(UI_BIN)/openapi-typescript "$$scratch/openapi.json" -o "$$scratch/schema.d.ts" --silent && \
	if ! diff -q $(UI)/openapi.json "$$scratch/openapi.json" >/dev/null || \
	   ! diff -q $(UI)/src/api/schema.d.ts "$$scratch/schema.d.ts" >/dev/null; then \
		diff -u $(UI)/openapi.json "$$scratch/openapi.json" | head -40; \
		echo "portal-ui's API client is out of date with the server's routes: run make portal-client"; \
		exit 1; \
	fi

portal-lint: $(UI_INSTALLED)
	cd $(UI) && npm run --silent lint

portal-typecheck: $(UI_INSTALLED)
	cd $(UI) && npm run --silent typecheck

portal-test: $(UI_INSTALLED)
	cd $(UI) && npm run --silent test

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,vision,demo,server,ray,automl,sweep]'
	touch $@

demo: $(INSTALLED) $(UI_BUILT)
	$(BIN)/python -m modelyard.demo

lint: $(INSTALLED) portal-lint portal-client-check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(INSTALLED) portal-typecheck
	$(BIN)/mypy

# The portal's browser tests drive Debian's headless Chromium through Playwright (no browser
# download at test time). Installed with apt-get only when missing; sudo only when not root.
CHROMIUM := /usr/lib/chromium/chromium-headless-shell
CHROMIUM_STAMP := $(VENV)/.chromium

$(CHROMIUM_STAMP): | $(INSTALLED)
	@if [ ! -x $(CHROMIUM) ] && ! command -v chromium-headless-shell >/dev/null 2>&1; then \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		echo "installing chromium-headless-shell for the portal's browser tests"; \
		$$SUDO apt-get update -qq && \
		$$SUDO apt-get install -y -qq --no-install-recommends chromium-headless-shell; \
	fi
	touch $@

# Two workers: most tests wait on subprocesses, servers and a Ray head, not on the CPU. Each
# takes a whole test file at a time (its module fixtures built once); session fixtures, such
# as the Ray head, are one per worker.
# The package's bytecode is compiled first: every job's supervisor, every pipeline's or sweep's
# driver and every `modelyard` command of the CLI tests is a fresh interpreter importing
# Modelyard, and under PYTHONDONTWRITEBYTECODE (set on some machines) each would compile all
# of its sources again (a third of a CLI command's start-up). Stale files are recompiled.
unit: $(INSTALLED) $(CHROMIUM_STAMP) $(UI_BUILT) portal-test
	$(BIN)/python -m compileall -q src
	$(BIN)/pytest -n 2 --dist loadfile

# A bare `pip install .` (no extras) in a venv of its own: the CLI and SDK basics must work
# without any extra, and each feature of a missing extra must name it. The venv is made afresh
# when pyproject.toml changes; the package is reinstalled when a source file changes. (`build/`
# is setuptools' scratch: a stale one would put deleted modules back into the wheel.)
BASE_VENV := .venv-base
BASE_CREATED := $(BASE_VENV)/.created
BASE_INSTALLED := $(BASE_VENV)/.installed
SOURCES := $(shell find src -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*')

$(BASE_CREATED): pyproject.toml
	rm -rf $(BASE_VENV)
	$(PYTHON) -m venv $(BASE_VENV)
	$(BASE_VENV)/bin/python -m pip install --quiet --upgrade pip
	touch $@

$(BASE_INSTALLED): $(BASE_CREATED) $(SOURCES) $(UI_BUILT)
	rm -rf build
	$(BASE_VENV)/bin/python -m pip install --quiet .
	touch $@

base-install-check: $(BASE_INSTALLED)
	env -u PYTHONPATH $(BASE_VENV)/bin/python tests/base_install/check_base_install.py

test: lint typecheck unit base-install-check

clean:
	rm -rf $(VENV) $(BASE_VENV) build demo-workspace test-output $(UI_DIST) $(UI)/node_modules
