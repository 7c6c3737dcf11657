# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint typecheck unit clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,vision,demo,server]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/python -m modelyard.demo

lint: $(INSTALLED)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

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

test: lint typecheck unit

clean:
	rm -rf $(VENV) demo-workspace test-output
