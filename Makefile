# One command each: `make demo` sets everything up and runs the demo, `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The oldest Pulumi SDK pyproject.toml allows, in a virtualenv of its own: the engine model and
# the demo's stacks are tested against it too (the newest 3.x is in $(VENV)).
PULUMI_FLOOR ?= 3.235.0
FLOOR_VENV   ?= .venv-pulumi-floor
FLOOR_BIN    := $(FLOOR_VENV)/bin
FLOOR_STAMP  := $(FLOOR_VENV)/.installed
FLOOR_DEPS   := "pulumi==$(PULUMI_FLOOR)" "fastapi>=0.110" "uvicorn>=0.29" "pytest>=8" "pytest-timeout>=2.3"
FLOOR_TESTS  := tests/harness_tests tests/test_demo.py

.PHONY: demo test test-pulumi-floor lint install bench clean pulumi-cli plugin nodejs-sdk

# The real Pulumi CLI, built from Go source at the version tools/pulumi-cli/go.mod pins, with the
# project's Python language host (docs/development.md). Cached: a second run costs nothing. Where
# it cannot be built, one line says why and the real-CLI tests skip, unless
# HF_ENDPOINTS_REQUIRE_PULUMI_CLI=1 (CI), which makes that an error.
PULUMI_TOOLS ?= .tools/pulumi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[emulator,test]"
	touch $(STAMP)

install: $(STAMP)

$(FLOOR_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_BIN)/pip install -e . $(FLOOR_DEPS)
	touch $(FLOOR_STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(PULUMI_TOOLS)/bin:$$PATH" $(BIN)/pulumi-hf-endpoints demo

pulumi-cli:
	@tools/pulumi-cli/build.sh $(CURDIR)/$(PULUMI_TOOLS) || { \
	  if [ -n "$$HF_ENDPOINTS_REQUIRE_PULUMI_CLI" ]; then exit 1; fi; \
	  echo "real-CLI tests will be skipped: $$(cat $(PULUMI_TOOLS)/unavailable)"; }

# The native provider (docs/native.md). `plugin` builds its archive for
# `pulumi plugin install resource hf-endpoints VERSION --file ARCHIVE` into dist/; `nodejs-sdk`
# generates its Node.js SDK with the CLI above and installs a TypeScript program's packages into
# $(NODEJS_TOOLS) (npm registry on the first run). Both cached; where one cannot be built, one
# line says why and its tests skip (an error with HF_ENDPOINTS_REQUIRE_PULUMI_CLI=1).
NODEJS_TOOLS ?= .tools/nodejs
PLUGIN_DIST  ?= dist

plugin: $(STAMP)
	@tools/native/plugin-archive.sh $(CURDIR)/$(PLUGIN_DIST) $(BIN)/python

nodejs-sdk: $(STAMP) pulumi-cli
	@tools/native/nodejs-sdk.sh $(CURDIR)/$(NODEJS_TOOLS) $(CURDIR)/$(PULUMI_TOOLS)/bin \
	  $(CURDIR)/$(BIN)/pulumi-resource-hf-endpoints || { \
	  if [ -n "$$HF_ENDPOINTS_REQUIRE_PULUMI_CLI" ]; then exit 1; fi; \
	  echo "TypeScript tests will be skipped: $$(cat $(NODEJS_TOOLS)/unavailable)"; }

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard provider tests bench examples scripts)
	$(BIN)/ruff format --check $(wildcard provider tests bench examples scripts)
	$(BIN)/mypy --strict provider/
	$(BIN)/python scripts/generate_async.py --check
	$(BIN)/python scripts/generate_surface.py --check

test: lint pulumi-cli nodejs-sdk plugin
	$(BIN)/pytest -q
	$(MAKE) test-pulumi-floor

test-pulumi-floor: $(FLOOR_STAMP)
	$(FLOOR_BIN)/pytest -q -m "not model" $(FLOOR_TESTS)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(FLOOR_VENV) $(PULUMI_TOOLS) $(NODEJS_TOOLS) $(PLUGIN_DIST)
