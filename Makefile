# Set-up and the two everyday commands. Each target installs what a fresh Debian 12 /
# Python 3.11 machine lacks, into a virtual environment inside the repository. System
# tools already on PATH are used as they are; missing ones are installed with apt-get
# when running as root, otherwise tools/install-missing.sh says how to get them (conda).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_out
# CPU wheel of torch; a GPU user installs a CUDA build into .venv first (see README).
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test lint format system-deps test-deps venv clean

demo: $(STAMP)
	$(VENV)/bin/varinterp demo --out $(DEMO_OUT) --threads 2 --overwrite

test: $(STAMP) test-deps
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check varinterp tests benchmarks
	$(VENV)/bin/ruff format --check varinterp tests benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format varinterp tests benchmarks
	$(VENV)/bin/ruff check --fix varinterp tests benchmarks

system-deps:
	@sh tools/install-missing.sh bedtools:bedtools bcftools:bcftools tabix:tabix

# What only the tests need: headless Chromium renders the locus report, and R's susieR
# is the live oracle of the fine-mapping tests.
test-deps:
	@sh tools/install-missing.sh chromium:chromium R=susieR:r-cran-susier

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(MAKE) --no-print-directory system-deps
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev]" "$(TORCH_SPEC)"
	touch $(STAMP)

venv: $(STAMP)

clean:
	rm -rf $(VENV) $(DEMO_OUT)
