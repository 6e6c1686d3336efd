# VoiceApp — every task is one obvious command. See README.md.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
DEBIAN_PACKAGES := chromium espeak-ng sox

.PHONY: install system-deps run emulator test test-fast test-js lint fmt check migrations-check bench clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(STAMP)

# Debian packages for the emulator's speech and the browser tests; installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v sox >/dev/null || missing="$$missing sox"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The app at http://127.0.0.1:8000 on SQLite; with no OPENAI_API_KEY it also starts the local emulator.
run: install
	$(BIN)/python scripts/run.py

# Only the local OpenAI Realtime + Open-Meteo emulator, on port 8100.
emulator: install
	$(BIN)/python -m emulator --port 8100

# The whole suite: Python (unit, API, emulator, end-to-end in Chromium) and the JS unit tests.
test: install system-deps test-js
	$(BIN)/pytest $(PYTEST_ARGS)

# Everything except the browser tests.
test-fast: install test-js
	$(BIN)/pytest -m "not e2e" $(PYTEST_ARGS)

test-js:
	node --test tests/js/

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

check: lint migrations-check test

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
