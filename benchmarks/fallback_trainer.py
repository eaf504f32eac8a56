"""Benchmark: the stacked trainer's torch.func fallback against its hand-written fast path.

Two tables, on random data, timed end to end through ``train_stacked`` (initialisation,
every step, copying the result back), best of ``--repeats`` runs after a small warm-up:

1. Fast path vs fallback, for the architectures the fast path supports: the 64-64 MLP on
   Adult's shape (108 features, 2 classes), the Purchase-shaped MLP 600-1024-512-256-128-100
   and the MNIST CNN (channels 16, 32 on [1, 28, 28], 10 classes), at K = ``--compare-k``
   models. ``engine="fast"`` against ``engine="func"``, and their ratio.
2. The fallback alone at K = 1, 8, 32 (``--ks``) for the architectures only it trains: the
   ResNet-20 (16/32/64 channels, GroupNorm) on CIFAR's [3, 32, 32] with 10 classes, and
   Kim's text CNN (300-d embeddings, 100 maps of widths 3, 4, 5, dropout 0.5) on 64-token
   sequences over a 5,000-word vocabulary, 2 classes.

Throughput is in model-samples per second: one record seen by one model in training
counts 1, so K models trained for S steps of B records each are K * S * B model-samples.
Each model trains ``steps`` steps of ``--batch-size`` records (one epoch over its own
records), with Adam.

Run: python benchmarks/fallback_trainer.py [--threads N] [--device cpu|cuda]
     [--compare-k 8] [--ks 1,8,32] [--batch-size 32] [--repeats 2] [--cases label,...]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from leakbench.models import get_architecture
from leakbench.seeding import configure_torch
from leakbench.training import TrainConfig, train_stacked
from leakbench.training.device import DEVICE_ENV


@dataclass(frozen=True)
class Case:
    """One benchmarked model: architecture, record shape, classes and run length."""

    label: str
    arch: str
    arch_params: dict[str, Any]
    input_shape: tuple[int, ...]
    classes: int
    steps: int  # optimisation steps per model in one timed run

    def pool(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """``size`` random records (float32, or int64 token ids for token models) and labels."""
        shape = (size, *self.input_shape)
        if get_architecture(self.arch).inputs == "tokens":
            x = rng.integers(0, self.arch_params["vocab"], shape, dtype=np.int64)
        else:
            x = rng.random(shape, dtype=np.float32)
        return x, rng.integers(0, self.classes, size)


COMPARED = (
    Case("mlp 64-64 adult", "mlp", {"hidden": [64, 64]}, (108,), 2, 64),
    Case("mlp purchase", "mlp", {"hidden": [1024, 512, 256, 128]}, (600,), 100, 8),
    Case("cnn mnist", "cnn", {"channels": [16, 32]}, (1, 28, 28), 10, 8),
)
FALLBACK_ONLY = (
    Case("resnet20 cifar", "resnet20", {}, (3, 32, 32), 10, 2),
    Case("textcnn", "textcnn", {"vocab": 5000}, (64,), 2, 4),
)


@dataclass(frozen=True)
class Bench:
    """Settings shared by every timed run."""

    config: TrainConfig
    repeats: int
    sync: Callable[[], None]

    def rate(
        self, case: Case, count: int, engine: str, rng: np.random.Generator, repeats: int = 0
    ) -> float:
        """Model-samples per second of ``train_stacked`` on ``count`` models of ``case``,
        the best of ``repeats`` runs (default: :attr:`repeats`)."""
        records = case.steps * self.config.batch_size
        x, y = case.pool(rng, 2 * records)
        keep = np.zeros((count, len(y)), dtype=bool)
        for row in keep:
            row[rng.choice(len(y), records, replace=False)] = True
        best = float("inf")
        for _ in range(repeats or self.repeats):
            start = time.perf_counter()
            train_stacked(
                arch=case.arch,
                arch_params=case.arch_params,
                x=x,
                y=y,
                num_classes=case.classes,
                keep=keep,
                seeds=list(range(count)),
                config=self.config,
                engine=engine,
            )
            self.sync()
            best = min(best, time.perf_counter() - start)
        return count * records * self.config.epochs / best

    def warm_up(self, case: Case, engines: tuple[str, ...], rng: np.random.Generator) -> None:
        """One untimed run per engine on one model: load kernels, grow allocator pools."""
        for engine in engines:
            self.rate(case, 1, engine, rng, repeats=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--compare-k", type=int, default=8, help="K of the fast/fallback table")
    parser.add_argument("--ks", default="1,8,32", help="K of the fallback-only table")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs, the best counts")
    parser.add_argument("--cases", default=None, help="comma-separated labels to run")
    args = parser.parse_args()
    os.environ[DEVICE_ENV] = args.device
    configure_torch(args.threads)
    on_gpu = torch.device(args.device).type == "cuda"
    bench = Bench(
        config=TrainConfig(epochs=1, batch_size=args.batch_size, lr=1e-3),
        repeats=args.repeats,
        sync=torch.cuda.synchronize if on_gpu else (lambda: None),
    )
    chosen = None if args.cases is None else set(args.cases.split(","))
    rng = np.random.default_rng(0)
    print(
        f"torch {torch.__version__}, device {args.device}, {args.threads} thread(s), "
        f"batch {args.batch_size}, best of {args.repeats}; model-samples per second"
    )
    print(f"{'model':<18}{'K':>4}{'fast':>12}{'fallback':>12}{'fast/fallback':>15}")
    for case in COMPARED:
        if chosen is None or case.label in chosen:
            bench.warm_up(case, ("fast", "func"), rng)
            fast = bench.rate(case, args.compare_k, "fast", rng)
            func = bench.rate(case, args.compare_k, "func", rng)
            row = f"{case.label:<18}{args.compare_k:>4}{fast:>12.0f}{func:>12.0f}"
            print(f"{row}{fast / func:>15.2f}", flush=True)
    print(f"{'model':<18}{'K':>4}{'fallback':>12}")
    for case in FALLBACK_ONLY:
        if chosen is None or case.label in chosen:
            bench.warm_up(case, ("func",), rng)
            for count in (int(k) for k in args.ks.split(",")):
                print(
                    f"{case.label:<18}{count:>4}{bench.rate(case, count, 'func', rng):>12.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
