# Two entry points (see README): `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra Snakemake options of run and restore, e.g. SNAKEFLAGS="--configfile config/test.yaml".
SNAKEFLAGS ?=

.PHONY: setup system data run reference restore test lint benchmark benchmark-peers gpu-smoke clean

setup: $(STAMP)

# torch first, pinned, so pip takes the CPU build instead of a multi-GB CUDA one.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Debian packages the system tests use: a single-node Slurm (tests/test_slurm.py) and
# headless Chromium (tests/test_report.py). Installs what is missing; needs root.
SYSTEM_PACKAGES := slurmctld slurmd slurm-client munge chromium chromium-driver
system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Debian packages that hold datasets the default config reads offline: Fashion-MNIST
# (/usr/share/datasets/fashion-mnist). Installs what is missing when run as root; otherwise
# says what to install (the workflow's data rule stops with the same hint).
DATA_PACKAGES := dataset-fashion-mnist
data:
	@missing=$$(for p in $(DATA_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing Debian packages (install as root): apt-get install $$missing"; \
		fi; \
	fi

# The workflow, then the regeneration check against reference/ (its summary; a failed check
# is reported, not fatal: `leakbench verify` alone exits 1 on it).
run: setup data
	$(BIN)/snakemake --cores all $(SNAKEFLAGS)
	-$(BIN)/leakbench verify

# After `make run` of the default config: make its tables the reference (reference/tables,
# reference/platform.json) and record its outputs in dvc.lock. Commit both, then `dvc push`.
reference: setup
	$(BIN)/leakbench reference
	$(BIN)/dvc commit --force --quiet

# On a fresh clone: fetch the outputs dvc.lock names from the DVC remote, mark them up to
# date for Snakemake (--touch), and run what is left: only the tracking jobs, which rebuild
# the MLflow store from the pulled metrics. Snakemake then has nothing to do.
restore: setup
	$(BIN)/dvc pull
	$(BIN)/snakemake --cores all --touch $(SNAKEFLAGS)
	$(BIN)/snakemake --cores all $(SNAKEFLAGS)

test: setup system data
	$(BIN)/ruff check src tests workflow benchmarks
	$(BIN)/ruff format --check src tests workflow benchmarks
	$(BIN)/lint-imports
	$(BIN)/pytest

benchmark: setup
	$(BIN)/python benchmarks/stacked_trainer.py
	$(BIN)/python benchmarks/dp_trainer.py
	$(BIN)/python benchmarks/fallback_trainer.py

# leakbench against IBM ART and a plain PyTorch loop (ART from the optional extra `peers`).
benchmark-peers: setup
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[peers]'
	$(BIN)/python benchmarks/peers.py --json results/benchmarks/peers.json

# The test config on the GPU that LEAKBENCH_DEVICE names (default cuda), with timings.
gpu-smoke: setup
	$(BIN)/python benchmarks/gpu_smoke.py

clean:
	rm -rf results .snakemake mlflow.db
