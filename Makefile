# The two commands of the README do all the set-up on a fresh machine:
#   make demo   — the whole lifecycle on the bundled 江头街道 example
#   make test   — the test suite (SQLite, PostgreSQL, SMTP, browser, LibreOffice, Prefect harness)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: demo test test-fast soak lint bench sysdeps fonts venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Debian packages: Chromium for the browser tests, LibreOffice and CJK fonts for document previews,
# poppler for pdftotext, PostgreSQL for the data-layer tests.
sysdeps:
	@bash deployments/install-system-packages.sh

# only the CJK fonts: the demo's charts draw Chinese labels (the charts register the font file
# itself, so a matplotlib font cache written before the fonts came does not matter)
fonts:
	@bash deployments/install-system-packages.sh fonts

demo: fonts venv
	$(BIN)/grantflow demo

# three workers on two cores: much of the suite waits on subprocesses (Prefect's temporary server,
# LibreOffice, Chromium, PostgreSQL); each file runs whole on one worker
TEST_WORKERS ?= 3

test: sysdeps venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow"

# reliability runs too long for CI (tests marked soak): ten kills in each window of a sender of
# 2,000 letters, relay and embedded; the demo year killed 30 times over its stages on SQLite and on
# PostgreSQL, its SMTP server killed in every stage that sends, its PostgreSQL server crashed in 12
# stages — each compared with a clean year; prints each run's figures (bench/results/reliability.md)
soak: sysdeps venv
	$(BIN)/python -m pytest --soak -m soak -s -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy models

bench: sysdeps venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
