# clusterforge — the commands of README.md.
#   make setup   everything a fresh machine needs (venv, system packages, the
#                Kubernetes toolchain, cached under ~/.cache/clusterforge)
#   make test    every test
#   make lint    ruff, mypy, import contracts
#   make bench   benchmarks (print ratios against baselines of the same run)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CF     := $(BIN)/clusterforge
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup venv system-packages tools test test-fast lint bench clean

setup: system-packages venv tools

venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml constraints.txt setup.py src/clusterforge/engine/local/_spawn.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# Debian packages the tests use for real: bats (DETIK .bats files), chromium
# (UI tests), gcc for the engine's step launcher (before the venv builds it). Installed only when missing, so a warm setup takes seconds.
system-packages:
	@PYTHON=$(PYTHON) scripts/install-system-packages

tools: venv
	$(CF) tools install --jobs 5

test: setup
	$(BIN)/pytest -n 2 --timeout=900

test-fast: venv
	$(BIN)/pytest -n 2 -m 'not cluster'

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Luigi is the engine benchmark's peer; it is installed for the bench only.
bench: setup
	$(BIN)/python -c 'import luigi' 2>/dev/null || $(BIN)/pip install --quiet 'luigi>=3.5'
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/build.py
	$(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
