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
$(BIN)/.installed: pyproject.toml constraints.txt setup.py src/clusterforge/engine/local/_spawn.c src/clusterforge/engine/local/_shim.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# Debian packages the tests use for real: bats (DETIK .bats files), chromium
# (UI tests), gcc for the engine's step launcher (before the venv builds it). Installed only when missing, so a warm setup takes seconds.
system-packages:
	@PYTHON=$(PYTHON) scripts/install-system-packages

# SeaweedFS (`weed`, optional: the S3 server the artifact tests run against)
# builds from its Go module in a lane of its own, a separate process started
# beside the Kubernetes toolchain, so it never waits for a free slot among
# their lanes (the main install then finds it in the cache). It is optional:
# a failed build is reported with its log and does not fail setup; the S3
# tests then fail naming `clusterforge tools install weed`.
# Argo's JSON schemas of the pinned v3 and v4 lines (module files only, seconds):
# tests/workflow/test_argo_fields.py regenerates the loader's field list from them.
tools: venv
	@$(BIN)/python scripts/argo_fields.py --download || echo "(optional: the test skips)"
	@$(CF) tools install weed > $(VENV)/weed-install.log 2>&1 & weed=$$!; \
	$(CF) tools install --jobs 5; rc=$$?; \
	if wait $$weed; then tail -n 1 $(VENV)/weed-install.log; \
	else echo "weed (optional) was not built:"; tail -n 20 $(VENV)/weed-install.log; fi; \
	exit $$rc

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
	$(BIN)/python bench/fleet.py
	$(BIN)/python bench/ui.py
	$(BIN)/python bench/artifacts.py --quick
	$(BIN)/python bench/redos.py
	$(BIN)/python bench/argo.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
