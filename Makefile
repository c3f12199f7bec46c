# RigFit: `make run` starts the app, `make test` runs every test.
# Both create .venv on first use, install requirements.txt into it and the project
# itself (editable, so .venv/bin/rigfit runs this checkout).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test fuzz screenshots bench accuracy cloud-offers clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port 8501

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --timeout 600 -q

# The fuzz tests with fresh random examples (tests/conftest.py): FUZZ_EXAMPLES per test.
FUZZ_EXAMPLES ?= 500
fuzz: $(STAMP)
	RIGFIT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/test_fuzz_cli.py tests/test_fuzz_app.py

# The benchmarks run as modules from the repository root (python -m benchmarks.x).
bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do \
		$(BIN)/python -m benchmarks.$$(basename $$script .py); done

accuracy: $(STAMP)
	$(BIN)/python -m benchmarks.calibrate
	$(BIN)/python -m benchmarks.accuracy_report

# Needs a network: rebuilds catalog/cloud_offers.yaml from gpuhunt's published catalog.
cloud-offers: $(STAMP)
	$(BIN)/python -m rigfit cloud-offers --refresh

screenshots: $(STAMP)
	$(BIN)/python -m benchmarks.screenshots

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
