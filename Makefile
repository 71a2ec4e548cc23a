# Terril: the two commands a newcomer needs, on a fresh Debian 12 machine as root:
#   make demo   - install everything, then run the demo (local stack, simulated fleet, summary)
#   make test   - install everything, then run the test suite against real Mosquitto and InfluxDB

PYTHON ?= python3
VENV   ?= .venv
APT_PACKAGES = mosquitto mosquitto-clients influxdb influxdb-client python3-venv python3-pip ca-certificates poppler-utils docker-compose chromium chromium-driver
PY     = $(VENV)/bin/python
# Python may write its bytecode caches (__pycache__, gitignored) even where the environment says
# not to: without them every test worker and every `terril` process the tests start compiles the
# project's modules again, and pytest rewrites every test module again in each worker.
unexport PYTHONDONTWRITEBYTECODE
STAMP  = $(VENV)/.terril-installed

.PHONY: setup system-packages venv demo test bench clean help

help:
	@echo "make demo   - set up and run the demo"
	@echo "make test   - set up and run the tests"
	@echo "make bench  - set up and run the benchmarks under bench/"
	@echo "make setup  - only install (Debian packages, virtual environment)"

setup: system-packages venv

# Debian packages: Mosquitto, InfluxDB, Python's venv, and Chromium for the portal's browser tests.
# Installed only when something is missing.
system-packages:
	@missing=""; \
	for b in mosquitto mosquitto_passwd influxd chromium chromedriver; do \
	  command -v $$b >/dev/null 2>&1 || [ -x /usr/sbin/$$b ] || [ -x /usr/bin/$$b ] || missing="$$missing $$b"; \
	done; \
	$(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	  else \
	    echo "Missing:$$missing. As root, run: apt-get install $(APT_PACKAGES)"; exit 1; \
	  fi; \
	fi

venv: $(STAMP)

# uv (Astral's installer, from PyPI) installs the same packages as pip from the same index, in
# parallel, and compiles their bytecode on both cores: much faster than pip on the 2-core machine.
# If uv cannot be had, pip does the job.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if $(PY) -m pip install -q --disable-pip-version-check uv >/dev/null 2>&1 && test -x $(VENV)/bin/uv; then \
	  echo "Installing Terril into $(VENV) (uv)"; \
	  $(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -e '.[test]'; \
	else \
	  echo "Installing Terril into $(VENV) (pip)"; \
	  $(PY) -m pip install -q --disable-pip-version-check --upgrade pip 2>/dev/null || true; \
	  $(PY) -m pip install -q --disable-pip-version-check -e '.[test]'; \
	fi
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/terril demo
	@echo ""
	@echo "Portail web sur les données de la démo : $(VENV)/bin/terril demo --serve  (affiche http://127.0.0.1:8080/ et un identifiant de démo ; Ctrl-C pour arrêter)"

# four workers on the two cores (pytest-xdist; each starts its own stack on free ports; a file's tests
# stay together, files in collection order: tests/conftest.py puts the tests of the session's demo first,
# as one unit for one worker, then the other demo days one by one, then the modules with slow tests).
# Two workers left a core idle while a test waited on a server or an outage (the pytest processes used
# 53 % of the two cores); four keep both busy: 4 min 51 s instead of 6 min 41 s on the idle machine;
# the 15 slowest tests are listed before pytest's summary line, which says the wall time.
# First the import contracts of docs/architecture.md (layers, no circles): seconds, and a broken one stops here
# The last line gives the whole run's wall time, set-up included.
test:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory setup && \
	$(VENV)/bin/lint-imports --no-logo && \
	$(PY) -m pytest -q -n 4 --dist loadfile --no-loadscope-reorder --durations=15; \
	rc=$$?; s=$$(( $$(date +%s) - start )); \
	echo "make test: $$((s / 60)) min $$((s % 60)) s wall time, set-up included (exit $$rc)"; exit $$rc

bench: setup
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
