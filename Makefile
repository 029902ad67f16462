# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test screenshots install install-test migrate seed lint format check benchmark benchmark-load clean messages compilemessages

help:
	@echo "make run    - install, migrate, load the seed, create a local admin, serve on http://$(HOST):$(PORT)/ with the task worker"
	@echo "make test   - install what the tests need and run the whole suite"
	@echo "make lint   - ruff check, format check and mypy"
	@echo "make screenshots - refresh docs/screenshots/ from the browser tests"
	@echo "make benchmark - run the benchmarks (see docs/performance.md)"
	@echo "make benchmark-load - read throughput with no writer and with one (gunicorn, Redis, PostgreSQL)"
	@echo "make messages - refresh locale/*/LC_MESSAGES/*.po from the code and templates (then translate)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet ".[test]"
	touch $(VENV)/.installed $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test node_modules/.installed

# The interface in French and Spanish: the .po files are in the repository, the
# compiled .mo files are build output (.gitignore), rebuilt here whenever a .po
# changes, so what runs can never lag behind the translations. msgfmt is GNU gettext's
# compiler; on a machine without it, it is installed (Debian/Ubuntu) or named.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

locale/%.mo: locale/%.po
	@command -v msgfmt >/dev/null || { \
		echo "msgfmt (GNU gettext) is missing: installing it (apt-get install -y gettext)"; \
		apt-get install -y -qq gettext >/dev/null; \
	} || { echo "Install GNU gettext (apt-get install gettext), then run make again."; exit 1; }
	msgfmt --check -o $@ $<

compilemessages: $(MO_FILES)

# Not part of run/test: it rewrites the .po files, whose new msgids then need
# translating (tests/pages/test_i18n.py fails until they are).
MAKEMESSAGES_IGNORE := --ignore=.venv --ignore=node_modules --ignore=tests \
	--ignore=benchmarks --ignore=stubs --ignore=staticfiles --ignore=docs
messages: install
	$(BIN)/python manage.py makemessages -l fr -l es --no-obsolete $(MAKEMESSAGES_IGNORE)
	$(BIN)/python manage.py makemessages -d djangojs -l fr -l es --no-obsolete $(MAKEMESSAGES_IGNORE)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py load_seed

# The task worker (approved reorganizations take effect at their time) runs beside the
# server and stops with it.
run: seed compilemessages
	DEBUG=true $(BIN)/python manage.py ensure_dev_admin
	DEBUG=true $(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=true $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-test compilemessages
	TESTING=true $(BIN)/python -m pytest $(PYTEST_ARGS)

# Refresh the README's screenshots in docs/screenshots/ (look at them before committing).
screenshots: install-test compilemessages
	UPDATE_SCREENSHOTS=1 TESTING=true $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# mypy's Django plugin imports the settings: as for the tests, with TESTING=true and
# without the production switches a caller's environment may hold (SECURE would
# demand a real SECRET_KEY). What it checks is set in pyproject.toml ([tool.mypy]).
MYPY_ENV := TESTING=true SECURE= REQUIRE_SECRET_KEY=

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MYPY_ENV) $(BIN)/mypy

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: install
	$(BIN)/python manage.py check_registry

benchmark: install-test
	$(BIN)/python -m benchmarks.run $(BENCHMARK_ARGS)

benchmark-load: install-test
	$(BIN)/python -m benchmarks.load $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .mypy_cache
