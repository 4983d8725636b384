# Panelbot: `make demo` fills SQLite with a made-up panel and serves the web chat and dashboard;
# `make run` starts the bot (web only without a token); `make test` runs every check and test.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
BABEL_KEYWORDS = -k N_ -k _ -k gettext -k ngettext:1,2

.PHONY: install run demo test lint typecheck messages clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/panelbot run

demo: install
	$(BIN)/panelbot demo --members 2000
	$(BIN)/panelbot run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

messages: install
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --add-comments=Translators: \
		--no-location --sort-output -o locales/messages.pot .
	$(BIN)/pybabel -q update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
