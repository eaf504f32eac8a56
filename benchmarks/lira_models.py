"""Benchmark: training the N keep-matrix models of the membership_lira study on purchase_synth.

For N = 16 and 64 (``--models``) it draws the LiRA keep matrix over ``--records`` records of
purchase_synth (600 binary features, 100 classes; each record in exactly N/2 models, so the
models' record counts differ and the trainer takes the ragged path), trains all N models of
the default config's MLP-128 in one stacked job, and prints model-samples per second: one
record seen by one model in training counts 1, so the job is sum_k n_k * epochs
model-samples. Timed end to end (initialisation, every step, copying the result back),
best of ``--repeats`` runs after a warm-up run. Each row carries the machine's 1-minute
load average before and after it: a figure taken beside other work (load above the cores
it may use) understates the trainer.

Run: python benchmarks/lira_models.py [--models 16,64] [--records 2000] [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

from leakbench.data.purchase import generate_purchase
from leakbench.seeding import configure_torch
from leakbench.studies.lira_splits import keep_matrix
from leakbench.training import TrainConfig, train_stacked


def model_samples_per_second(
    *, x: np.ndarray, y: np.ndarray, models: int, epochs: int, repeats: int
) -> tuple[float, float]:
    """(best seconds, model-samples per second) of one stacked job of ``models`` models."""
    keep = keep_matrix(models=models, records=len(y), seed=0)

    def run(epochs_: int) -> None:
        train_stacked(
            arch="mlp",
            arch_params={"hidden": [128]},
            x=x,
            y=y,
            num_classes=100,
            keep=keep,
            seeds=list(range(models)),
            config=TrainConfig(epochs=epochs_, batch_size=64, lr=0.001),
        )

    run(1)  # warm-up: kernels, allocator pools
    best = min(_timed(run, epochs) for _ in range(repeats))
    return best, float(keep.sum()) * epochs / best


def _timed(run: Callable[[int], None], epochs: int) -> float:
    start = time.perf_counter()
    run(epochs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="16,64")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    configure_torch(args.threads)
    pool = generate_purchase(seed=0, n_records=args.records)
    print(f"purchase_synth, MLP 600-128-100, {args.records} records, {args.epochs} epochs")
    print(f"{'N':>4} {'seconds':>9} {'model-samples/s':>16} {'load before/after':>18}")
    for models in (int(m) for m in args.models.split(",")):
        before = os.getloadavg()[0]
        seconds, rate = model_samples_per_second(
            x=pool.x, y=pool.y, models=models, epochs=args.epochs, repeats=args.repeats
        )
        load = f"{before:.1f} / {os.getloadavg()[0]:.1f}"
        print(f"{models:>4} {seconds:>9.2f} {rate:>16,.0f} {load:>18}")


if __name__ == "__main__":
    main()
