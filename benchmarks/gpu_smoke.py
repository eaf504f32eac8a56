"""GPU smoke run: the test config on a GPU against the CPU, with timings.

1. Prints the device ``LEAKBENCH_DEVICE`` names (default ``cuda``) and the torch build.
2. Runs ``config/test.yaml`` end to end twice, on the CPU and on that device, each in a
   fresh folder, and prints both wall times and their ratio.
3. Compares the two runs: the files made without floating-point training (prepared data,
   splits) must be byte-identical; every number of the result tables must agree within
   ``--tolerance`` (training on another device rounds differently, so trained models,
   scores and metrics agree only up to float tolerance, never bit for bit).
4. Runs ``benchmarks/stacked_trainer.py`` at K = 64 and 256 on both devices.

Run: LEAKBENCH_DEVICE=cuda python benchmarks/gpu_smoke.py [--tolerance 0.05] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXACT = ("results/data", "results/models/membership", "results/models/property_poisoning")
EXACT_SUFFIXES = (".npz", ".json")  # pools, info, splits and sides; not the checkpoints


def run_workflow(workdir: Path, device: str) -> float:
    """Run the test config in ``workdir`` on ``device``; return the wall time in seconds."""
    env = {
        **os.environ,
        "LEAKBENCH_DEVICE": device,
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
    }
    command = [
        str(BIN / "snakemake"),
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(ROOT / "config/test.yaml"),
        "--cores",
        "all",
    ]
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"{device} run failed:\n{proc.stderr[-4000:]}")
    return time.perf_counter() - start


def exact_files(workdir: Path) -> dict[str, str]:
    """sha256 of the files that no trained model influences."""
    out = {}
    for top in EXACT:
        for path in sorted((workdir / top).rglob("*")):
            if path.suffix in EXACT_SUFFIXES and path.is_file():
                out[str(path.relative_to(workdir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def table_numbers(workdir: Path) -> dict[tuple[str, int, str], float]:
    """Every numeric cell of the CSV tables, keyed by (table, row, column)."""
    cells = {}
    for table in sorted((workdir / "results/tables").glob("*.csv")):
        with table.open() as handle:
            for i, row in enumerate(csv.DictReader(handle)):
                for column, value in row.items():
                    try:
                        cells[(table.name, i, column)] = float(value)
                    except (TypeError, ValueError):
                        continue
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep the results")
    args = parser.parse_args()
    device = os.environ.get("LEAKBENCH_DEVICE", "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit(f"LEAKBENCH_DEVICE={device}: torch {torch.__version__} sees no CUDA device")
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    print(f"device: {device} ({name}); torch {torch.__version__}, CUDA {torch.version.cuda}")

    base = args.keep or Path(tempfile.mkdtemp(prefix="leakbench-gpu-smoke-"))
    runs = {"cpu": base / "cpu", device: base / device.replace(":", "")}
    seconds = {}
    for label, workdir in runs.items():
        workdir.mkdir(parents=True, exist_ok=True)
        seconds[label] = run_workflow(workdir, label)
        print(f"config/test.yaml on {label}: {seconds[label]:.1f} s")
    print(f"wall-time ratio cpu / {device}: {seconds['cpu'] / seconds[device]:.2f}")

    cpu, other = runs["cpu"], runs[device]
    same = exact_files(cpu) == exact_files(other)
    print(f"data and splits byte-identical: {same} ({len(exact_files(cpu))} files)")
    a, b = table_numbers(cpu), table_numbers(other)
    shared = a.keys() & b.keys()
    worst = max(((abs(a[k] - b[k]), k) for k in shared), default=(0.0, None))
    print(f"table cells compared: {len(shared)}; largest difference {worst[0]:.4g} at {worst[1]}")
    ok = same and a.keys() == b.keys() and worst[0] <= args.tolerance

    for label in ("cpu", device):
        print(f"\nstacked trainer on {label}, K = 64 and 256:", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks/stacked_trainer.py"),
                "--device",
                label,
                "--ks",
                "64,256",
            ],
            check=True,
        )
    sys.exit(0 if ok else f"GPU results differ from the CPU beyond tolerance {args.tolerance}")


if __name__ == "__main__":
    main()
