# Set-up and the two everyday commands. Each target installs what a fresh Debian 12 /
# Python 3.11 machine lacks, into a virtual environment inside the repository.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_out
# CPU wheel of torch; a GPU user installs a CUDA build into .venv first (see README).
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test lint format system-deps browser venv clean

demo: $(STAMP)
	$(VENV)/bin/varinterp demo --out $(DEMO_OUT)

test: $(STAMP) browser
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check varinterp tests benchmarks
	$(VENV)/bin/ruff format --check varinterp tests benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format varinterp tests benchmarks
	$(VENV)/bin/ruff check --fix varinterp tests benchmarks

system-deps:
	@missing=""; \
	for pair in bedtools:bedtools bcftools:bcftools tabix:tabix; do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Headless Chromium renders the locus report in its test.
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian package: chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

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
