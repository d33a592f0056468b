# One command each: `make demo` sets everything up and runs the demo, `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[emulator,test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/pulumi-hf-endpoints demo

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard provider tests bench examples scripts)
	$(BIN)/ruff format --check $(wildcard provider tests bench examples scripts)
	$(BIN)/mypy --strict provider/
	$(BIN)/python scripts/generate_async.py --check

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV)
