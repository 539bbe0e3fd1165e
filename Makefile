# The two commands: `make demo` runs the kiosk on a demo school, `make test` runs the whole suite.
# Both set themselves up from a fresh clone (venv, packages, chromium for the page tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint check-browser bench catalogs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kiosk demo --dir demo-data

lint: $(STAMP)
	$(BIN)/ruff check kiosk tests bench
	$(BIN)/ruff format --check kiosk tests bench
	$(BIN)/mypy kiosk
	$(BIN)/lint-imports

check-browser:
	@command -v chromium >/dev/null || { \
	  echo "installing chromium (Debian package) for the page tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser tests will say so"; }

test: $(STAMP) check-browser lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.latency

catalogs: $(STAMP)
	$(BIN)/python -m kiosk.i18n_tools update

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache
