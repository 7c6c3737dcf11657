# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint typecheck unit base-install-check clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,vision,demo,server,ray]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/python -m modelyard.demo

lint: $(INSTALLED)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(INSTALLED)
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

unit: $(INSTALLED) $(CHROMIUM_STAMP)
	$(BIN)/pytest

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

$(BASE_INSTALLED): $(BASE_CREATED) $(SOURCES)
	rm -rf build
	$(BASE_VENV)/bin/python -m pip install --quiet .
	touch $@

base-install-check: $(BASE_INSTALLED)
	env -u PYTHONPATH $(BASE_VENV)/bin/python tests/base_install/check_base_install.py

test: lint typecheck unit base-install-check

clean:
	rm -rf $(VENV) $(BASE_VENV) build demo-workspace test-output
