"""Benchmark: the stacked trainer against a plain one-model-at-a-time loop.

Prints, for K = 1, 4, 16, 64 models and three shapes (logistic regression and a 64-64 MLP
on Adult's 109 features, and the Purchase-shaped MLP 600-1024-512-256-128-100), the
throughput in model-samples/s (one sample seen by one model = 1), the achieved GFLOP/s and
the stacked/plain ratio.

FLOPs are counted as 3 x forward matmul FLOPs, forward = 2 * sum(fan_in * fan_out) per
sample and model (backward costs two forward-sized matmuls); biases and activations are
ignored. The plain loop's throughput does not depend on K (models run one after another),
so for K > 4 it is timed on 4 models and reported per model-sample.

Run: python benchmarks/stacked_trainer.py [--threads 1] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from leakbench.seeding import configure_torch
from leakbench.training import TrainConfig, train_sequential, train_stacked

SHAPES = {
    "logreg (adult)": ("logreg", {}, 109, 2),
    "mlp 64-64 (adult)": ("mlp", {"hidden": [64, 64]}, 109, 2),
    "mlp purchase": ("mlp", {"hidden": [1024, 512, 256, 128]}, 600, 100),
}


def forward_flops(features: int, hidden: list[int], classes: int) -> int:
    """2 * sum(fan_in * fan_out) over the dense layers: FLOPs of one forward pass."""
    widths = [features, *hidden, classes]
    return 2 * sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=False))


def timed(trainer, *, arch, params, x, y, classes, keep, config) -> float:
    start = time.perf_counter()
    trainer(
        arch=arch,
        arch_params=params,
        x=x,
        y=y,
        num_classes=classes,
        keep=keep,
        seeds=list(range(len(keep))),
        config=config,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--records", type=int, default=2000, help="training records per model")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--ks", default="1,4,16,64")
    args = parser.parse_args()
    os.environ["LEAKBENCH_DEVICE"] = args.device
    configure_torch(args.threads)
    config = TrainConfig(epochs=1, batch_size=args.batch_size, lr=1e-3)
    rng = np.random.default_rng(0)
    print(
        f"torch {torch.__version__}, device {args.device}, threads {args.threads}, "
        f"{args.records} records/model, batch {args.batch_size}, 1 epoch"
    )
    header = f"{'model':<20}{'K':>4}{'stacked Ms/s':>14}{'GFLOP/s':>9}{'plain Ms/s':>12}"
    print(header + f"{'GFLOP/s':>9}{'ratio':>7}")
    for name, (arch, params, features, classes) in SHAPES.items():
        flops = 3 * forward_flops(features, params.get("hidden", []), classes)
        pool = 2 * args.records
        x = rng.random((pool, features), dtype=np.float32)
        y = rng.integers(0, classes, pool)
        for k in (int(v) for v in args.ks.split(",")):
            keep = np.zeros((k, pool), dtype=bool)
            for row in keep:
                row[rng.choice(pool, args.records, replace=False)] = True
            common = dict(arch=arch, params=params, x=x, y=y, classes=classes, config=config)
            timed(train_stacked, keep=keep[:1], **common)  # warm-up
            stacked = k * args.records / timed(train_stacked, keep=keep, **common)
            m = min(k, 4)
            plain = m * args.records / timed(train_sequential, keep=keep[:m], **common)
            print(
                f"{name:<20}{k:>4}{stacked / 1e6:>14.3f}{stacked * flops / 1e9:>9.1f}"
                f"{plain / 1e6:>12.3f}{plain * flops / 1e9:>9.1f}{stacked / plain:>7.2f}"
            )


if __name__ == "__main__":
    main()
