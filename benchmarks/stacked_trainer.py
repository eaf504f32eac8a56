"""Benchmark: the stacked trainer against the plain one-model-at-a-time loop.

For K = 1, 4, 16, 64 models (and 256 on a GPU) and three shapes on random data
(logistic regression and a 64-64 MLP on Adult's shape, 108 features and 2 classes, and
the Purchase-shaped MLP 600-1024-512-256-128-100) it prints the throughput of
``train_stacked`` and of ``train_sequential`` and their ratio.

Throughput is in model-samples per second: one record seen by one model in training
counts 1, so a run of K models over n records for E epochs is K * n * E model-samples.
Both trainers are timed end to end (initialisation, every step, copying the result back),
best of a few runs after a small warm-up run. The plain loop's cost per model does not
depend on K, so it is timed on min(K, 4) models.

FLOP/s counts training as 3 x the forward matmul FLOPs:
    FLOPs per model-sample = 3 * 2 * sum over linear layers of fan_in * fan_out
(the forward pass is one multiply-add per weight; the backward pass computes the gradient
of the weights and of the layer input, each a matmul of the forward's size). This is the
usual approximation: the first layer needs no input gradient, and biases, activations, the
loss and the optimiser are not counted. The reference line is the rate of one large square
matmul with the same thread count, the machine's practical peak.

Run: python benchmarks/stacked_trainer.py [--threads N] [--device cpu|cuda] [--ks 1,4,16]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from leakbench.seeding import configure_torch
from leakbench.training import TrainConfig, train_sequential, train_stacked
from leakbench.training.device import DEVICE_ENV


@dataclass(frozen=True)
class Shape:
    """One benchmarked model: architecture, input width, classes and run length."""

    label: str
    arch: str
    hidden: tuple[int, ...]
    features: int
    classes: int
    records: int  # training records per model
    repeats: int

    def forward_flops(self) -> int:
        """2 * sum(fan_in * fan_out) over the linear layers: one forward pass, one sample."""
        widths = [self.features, *self.hidden, self.classes]
        return 2 * sum(a * b for a, b in itertools.pairwise(widths))


SHAPES = (
    Shape("logreg adult", "logreg", (), 108, 2, 4096, 5),
    Shape("mlp 64-64 adult", "mlp", (64, 64), 108, 2, 4096, 5),
    Shape("mlp purchase", "mlp", (1024, 512, 256, 128), 600, 100, 1024, 3),
)


def best_time(run: Callable[[], object], repeats: int, sync: Callable[[], None]) -> float:
    """Fastest of ``repeats`` timed calls of ``run``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_peak(device: torch.device, sync: Callable[[], None]) -> float:
    """GFLOP/s of a 2048 x 2048 float32 matmul (2 * n^3 FLOPs)."""
    n = 2048
    a = torch.randn(n, n, device=device)
    a @ a
    seconds = best_time(lambda: a @ a, 5, sync)
    return 2 * n**3 / seconds / 1e9


@dataclass(frozen=True)
class Job:
    """One shape's random pool and training settings."""

    shape: Shape
    x: np.ndarray
    y: np.ndarray
    config: TrainConfig

    def runner(self, trainer: Callable[..., object], keep: np.ndarray) -> Callable[[], object]:
        """A call of ``trainer`` on the models whose masks are ``keep``."""
        params = {"hidden": list(self.shape.hidden)} if self.shape.hidden else {}
        return lambda: trainer(
            arch=self.shape.arch,
            arch_params=params,
            x=self.x,
            y=self.y,
            num_classes=self.shape.classes,
            keep=keep,
            seeds=list(range(len(keep))),
            config=self.config,
        )


def random_keep(rng: np.random.Generator, count: int, pool: int, members: int) -> np.ndarray:
    """``count`` random membership masks with ``members`` rows each."""
    keep = np.zeros((count, pool), dtype=bool)
    for row in keep:
        row[rng.choice(pool, members, replace=False)] = True
    return keep


def bench_shape(
    job: Job, ks: list[int], rng: np.random.Generator, sync: Callable[[], None]
) -> None:
    """Print one table row per K for ``job``'s shape."""
    shape = job.shape
    flops = 3 * shape.forward_flops()
    pool = len(job.y)
    warm = random_keep(rng, 1, pool, 4 * job.config.batch_size)
    for trainer in (train_stacked, train_sequential):  # load kernels, grow allocator pools
        job.runner(trainer, warm)()
    sync()
    plain_rate: dict[int, float] = {}
    for k in ks:
        keep = random_keep(rng, k, pool, shape.records)
        seconds = best_time(job.runner(train_stacked, keep), shape.repeats, sync)
        stacked = k * shape.records * job.config.epochs / seconds
        m = min(k, 4)
        if m not in plain_rate:
            seconds = best_time(job.runner(train_sequential, keep[:m]), shape.repeats, sync)
            plain_rate[m] = m * shape.records * job.config.epochs / seconds
        plain = plain_rate[m]
        print(
            f"{shape.label:<16}{k:>5}{stacked / 1e6:>14.4f}{stacked * flops / 1e9:>9.1f}"
            f"{plain / 1e6:>12.4f}{plain * flops / 1e9:>9.1f}{stacked / plain:>7.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--ks", default=None, help="model counts (default 1,4,16,64; +256 GPU)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed run")
    parser.add_argument("--shapes", default=None, help="comma-separated labels to run")
    args = parser.parse_args()
    os.environ[DEVICE_ENV] = args.device
    configure_torch(args.threads)
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    sync = torch.cuda.synchronize if on_gpu else (lambda: None)
    ks = [int(v) for v in (args.ks or ("1,4,16,64,256" if on_gpu else "1,4,16,64")).split(",")]
    shapes = [s for s in SHAPES if args.shapes is None or s.label in args.shapes.split(",")]
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=1e-3)
    print(
        f"torch {torch.__version__}, device {args.device}, {args.threads} thread(s), "
        f"batch {args.batch_size}, {args.epochs} epoch(s); "
        f"matmul reference {matmul_peak(device, sync):.0f} GFLOP/s"
    )
    print(
        f"{'model':<16}{'K':>5}{'stacked Ms/s':>14}{'GFLOP/s':>9}"
        f"{'plain Ms/s':>12}{'GFLOP/s':>9}{'ratio':>7}"
    )
    rng = np.random.default_rng(0)
    for shape in shapes:
        pool = 2 * shape.records
        x = rng.random((pool, shape.features), dtype=np.float32)
        y = rng.integers(0, shape.classes, pool)
        bench_shape(Job(shape, x, y, config), ks, rng, sync)


if __name__ == "__main__":
    main()
