# walkout: `make demo` runs a simulated store; `make test` runs every check.
# Both create .venv themselves on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= demo-out

.PHONY: all venv test lint typecheck unit chromium screenshots demo bench clean

all: test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) chromium
	$(BIN)/pytest -n 2 -q

# The browser tests (tests/web) drive Debian's Chromium: Playwright cannot download one here.
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

chromium:
	@test -x /usr/bin/chromium || { $(APT) update && $(APT) install -y chromium; }

# PNGs of the web apps' main screens into docs/screenshots/, taken by the browser tests
# (the Korean ones need a Korean font: Debian's fonts-nanum).
screenshots: $(STAMP) chromium
	@fc-list :lang=ko | grep -q . || { $(APT) update && $(APT) install -y fonts-nanum; }
	$(BIN)/pytest tests/web -q --screenshots

test: lint typecheck unit

demo: $(STAMP)
	$(BIN)/walkout demo --out $(OUT)

bench: $(STAMP)
	$(BIN)/walkout bench

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache .hypothesis
