# Two entry points (see README): `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system run test lint benchmark benchmark-peers gpu-smoke clean

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

run: setup
	$(BIN)/snakemake --cores all

test: setup system
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
