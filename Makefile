# The two commands: `make demo` runs the kiosk on a demo school, `make test` runs the whole suite.
# Both set themselves up from a fresh clone (venv, packages, chromium for the page tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-quick lint check-browser check-system bench catalogs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

LISTEN ?= 127.0.0.1:8080

demo: $(STAMP)
	$(BIN)/kiosk demo --dir demo-data --listen $(LISTEN)

lint: $(STAMP)
	$(BIN)/ruff check kiosk tests bench tools
	$(BIN)/ruff format --check kiosk tests bench tools
	$(BIN)/mypy kiosk
	$(BIN)/lint-imports

check-browser:
	@command -v chromium >/dev/null || { \
	  echo "installing chromium (Debian package) for the page tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser tests will say so"; }

# The units and scripts in systemd/: systemd-analyze verify on every unit (in a scratch root, as
# installed; see systemd/verify-units.sh for why) and shellcheck on every shell script.
# Every file of the project (not hidden folders) whose first line is a sh/bash/dash shebang.
SHELL_SCRIPTS := $(shell find . \( -path './.*' -o -name node_modules -o -name demo-data \) -prune \
  -o -type f \( -name '*.sh' -o -perm -u+x \) -print | xargs -r awk \
  'FNR == 1 { if ($$0 ~ /^\#!.*[\/ ](ba|da)?sh( |$$)/) print FILENAME; nextfile }')
check-system: $(STAMP)
	@command -v systemd-analyze >/dev/null || { echo "installing systemd for systemd-analyze"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; }
	@command -v shellcheck >/dev/null || { echo "installing shellcheck"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
	shellcheck $(SHELL_SCRIPTS)
	systemd/verify-units.sh $(BIN)/kiosk

# The suite on TEST_WORKERS pytest-xdist workers (one a core of the 2-core kiosk machine; `make
# test TEST_WORKERS=0` runs it in this process, serially).
TEST_WORKERS ?= 2

test: $(STAMP) check-browser lint check-system
	$(BIN)/pytest -n $(TEST_WORKERS)

# The tests that start no Chromium, no running daemon, hub or `kiosk` process (the `slow` marker,
# see docs/testing.md): a couple of minutes, for between edits. `make test` is still the gate.
test-quick: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not slow"

# Every benchmark in bench/, each in rounds beside a baseline of the same run, then one summary
# table (bench/all.py; see the README's Performance section).
bench: $(STAMP) check-browser
	$(BIN)/python -m bench.all

catalogs: $(STAMP)
	$(BIN)/python -m kiosk.i18n.tools update

clean:
	rm -rf $(VENV) demo-data .pytest_cache .mypy_cache .ruff_cache
