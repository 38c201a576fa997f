# The two commands: `make demo` and `make test`. Each sets itself up on a fresh machine with only
# Python 3.11+ and make: it creates .venv and installs the project with what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= out
# Legibility verdicts that `make eval` passes to --audit (docs/alpr-audit/README.md).
AUDIT ?= $(wildcard docs/alpr-audit/*.tsv)

.PHONY: setup demo test train eval bench lint clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Murur needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[alpr,train,dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m murur.local demo --out $(OUT)/demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

train: $(STAMP)
	$(BIN)/python -m training.train --out training/runs/latest --install

eval: $(STAMP)
	$(BIN)/python -m murur.alpr.evaluate --synthetic 300 $(if $(REAL),--real $(REAL),) $(if $(MISREADS),--misreads $(MISREADS),) $(foreach verdicts,$(AUDIT),--audit $(verdicts))

bench: $(STAMP)
	$(BIN)/python -m bench.chain --frames 40

lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

clean:
	rm -rf $(VENV) $(OUT) .aws-sam .pytest_cache
