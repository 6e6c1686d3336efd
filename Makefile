# VoiceApp — every task is one obvious command. See README.md.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install speech-deps system-deps sdk-deps run emulator test test-fast test-js lint fmt check migrations-check bench asr-check clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(STAMP)

# Debian packages, installed only when missing: $(call apt-install,command package ...)
define apt-install
missing=""; for package in $(1); do command -v $$package >/dev/null || missing="$$missing $$package"; done; \
if [ -n "$$missing" ]; then \
	echo "Installing Debian packages:$$missing"; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
fi
endef

# The emulator speaks with espeak-ng and converts audio with sox.
speech-deps:
	@$(call apt-install,espeak-ng sox)

# The browser tests also need Chromium.
system-deps: speech-deps
	@$(call apt-install,chromium)

# OpenAI's browser SDK for the cross-origin emulator test (tests/sdk; dev-only, never part of make run).
sdk-deps:
	@[ -x tests/sdk/node_modules/.bin/esbuild ] || npm ci --prefix tests/sdk --no-audit --no-fund

# The app at http://127.0.0.1:8000 on SQLite; with no OPENAI_API_KEY (environment or .env) it also
# starts the local emulator, installing speech-deps first. scripts/run.py decides: it reads .env.
run: install
	$(BIN)/python scripts/run.py

# Only the local OpenAI Realtime + Open-Meteo emulator, on port 8100.
emulator: install speech-deps
	$(BIN)/python -m emulator --port 8100

# The whole suite: Python (unit, API, emulator, end-to-end in Chromium) and the JS unit tests.
test: install system-deps sdk-deps test-js
	$(BIN)/pytest $(PYTEST_ARGS)

# Everything except the browser tests.
test-fast: install test-js
	$(BIN)/pytest -m "not e2e" $(PYTEST_ARGS)

test-js:
	node --test tests/js/

# ruff, then the import contracts of pyproject.toml (layering, no cycles).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

check: lint migrations-check test

bench-scale: install
	$(BIN)/python -m bench.scale

bench: install
	$(BIN)/python -m bench

# How well the emulator hears cities, per espeak-ng voice and phrasing (WEBRTC=1: through Chromium).
asr-check: install system-deps
	nice -n 10 $(BIN)/python scripts/asr_check.py $(if $(WEBRTC),--webrtc)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .import_linter_cache .cache tests/sdk/node_modules
