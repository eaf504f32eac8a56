"""Benchmark: Purchase-shaped MLP training against the same run's matmul rate.

One run measures, on the CPU with ``--threads`` T (default 2):

* the matmul rate: one large square float32 GEMM (2048 x 2048); and the GEMMs of one
  training step at the trainers' own shapes, each arrangement timed both as one process
  with T intra-op threads and as T single-thread workers side by side (threads of this
  process with torch at one thread, each on its share of the models), the better of the
  two being the achievable rate of T cores at those shapes;
* training: ``train_stacked`` on K models at once, and ``train_sequential`` (the plain
  loop, one model at a time), each with T single-thread workers (the trainers' default,
  ``workers=None``) and with one worker of T threads (``workers=1``, the layout before
  workers existed);
* the optimiser alone: fused Adam steps on the K models' parameters, in GB/s moved (7
  float32 accesses a parameter), and the bound it puts on training when it runs in turn
  with the GEMMs: GEMM time / (GEMM time + Adam time);

and prints each one's GFLOP/s and its ratio to the achievable GEMM rate at its own shapes
and to the square GEMM's. The items are interleaved, round after round, and each keeps its
best round: the machine may be shared, and the best round is the one least disturbed.

FLOPs are counted exactly, as the matmuls the trainers run. For a layer of fan-in i and
fan-out o and a batch of b records, model by model:

* forward ``z = W h + b``: 2 b i o;
* backward, weight gradient ``dW = g h^T``: 2 b i o;
* backward, input gradient ``dh = W^T g``: 2 b i o, for every layer but the first (the
  data need no gradient, and neither trainer computes it);

so one step of the 600-1024-512-256-128-100 MLP costs 2 b (3 S - 600 * 1024) FLOPs with
S = sum of i * o over the five layers. A model's run sums this over its batches (an
epoch's last batch keeps the remainder). Biases, activations, the loss and the optimiser
are not counted: they are the overhead the ratio measures. Training is timed end to end
(initialisation, every step, copying the result back).

With ``--profile``, it then profiles one worker's work (each trainer on all K models with
one worker at one thread: the profiler does not follow worker threads) and the one-worker
T-thread call, and prints the shares of their self CPU time: the matmuls, the optimiser
step, and everything else (activations, the loss, indexing, initialisation, copies).

Run: python benchmarks/purchase_peak.py [--threads 2] [--models 8] [--rounds 5] [--profile]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from leakbench.seeding import configure_torch
from leakbench.training import TrainConfig, train_sequential, train_stacked

WIDTHS = (600, 1024, 512, 256, 128, 100)
SQUARE = 2048


def layers(widths: tuple[int, ...] = WIDTHS) -> list[tuple[int, int]]:
    """(fan-in, fan-out) of each linear layer."""
    return list(itertools.pairwise(widths))


def step_flops(batch: int, widths: tuple[int, ...] = WIDTHS) -> int:
    """Matmul FLOPs of one training step of one model on ``batch`` records: forward and
    weight gradient 2 b i o per layer, input gradient 2 b i o per layer but the first."""
    pairs = layers(widths)
    return sum(2 * batch * i * o * (3 if n else 2) for n, (i, o) in enumerate(pairs))


def run_flops(records: int, batch: int, epochs: int, models: int) -> int:
    """Matmul FLOPs of training ``models`` models on ``records`` records each."""
    sizes = [batch] * (records // batch) + ([records % batch] if records % batch else [])
    return models * epochs * sum(step_flops(b) for b in sizes)


@dataclass
class Item:
    """One timed thing: its FLOPs per call, its call, and its best time so far."""

    label: str
    flops: int
    call: Callable[[], object]
    best: float = float("inf")
    moved: int = 0  # bytes read and written, for a memory-bound item (no FLOPs counted)

    def time_once(self) -> None:
        start = time.perf_counter()
        self.call()
        self.best = min(self.best, time.perf_counter() - start)

    @property
    def rate(self) -> float:
        return self.flops / self.best / 1e9


def with_threads(threads: int, call: Callable[[], object]) -> Callable[[], object]:
    """``call`` run with torch at ``threads`` intra-op threads (restored after)."""

    def run() -> object:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return call()
        finally:
            torch.set_num_threads(before)

    return run


def side_by_side(calls: list[Callable[[], object]]) -> Callable[[], object]:
    """The calls run at once, one single-thread worker each."""

    def run() -> object:
        with ThreadPoolExecutor(len(calls)) as pool:
            return [f.result() for f in [pool.submit(c) for c in calls]]

    return with_threads(1, run)


def stacked_gemms(models: int, batch: int) -> Callable[[], None]:
    """The matmuls of one stacked training step (feature-major, as ``StackedNet``):
    ``baddbmm(bias, W, h)`` forward, ``bmm(g, h^T)`` and ``bmm(W^T, g)`` backward."""
    tensors = [
        (
            torch.randn(models, o, i),
            torch.randn(models, o, 1),
            torch.randn(models, i, batch),
            torch.randn(models, o, batch),
            torch.empty(models, o, i),
        )
        for i, o in layers()
    ]

    def run() -> None:
        for w, b, h, _, _ in tensors:
            torch.baddbmm(b, w, h)
        for n, (w, _, h, g, dw) in reversed(list(enumerate(tensors))):
            torch.bmm(g, h.transpose(1, 2), out=dw)
            if n:
                torch.bmm(w.transpose(1, 2), g)

    return run


def plain_gemms(batch: int) -> Callable[[], None]:
    """The matmuls of one plain training step (batch-major, as ``nn.Linear`` and autograd):
    ``addmm(b, h, W^T)`` forward, ``g^T h`` and ``g W`` backward."""
    tensors = [
        (torch.randn(o, i), torch.randn(o), torch.randn(batch, i), torch.randn(batch, o))
        for i, o in layers()
    ]

    def run() -> None:
        for w, b, h, _ in tensors:
            torch.addmm(b, h, w.t())
        for n, (w, _, h, g) in reversed(list(enumerate(tensors))):
            g.t().mm(h)
            if n:
                g.mm(w)

    return run


def parameter_count(widths: tuple[int, ...] = WIDTHS) -> int:
    """Weights and biases of one model: sum of (i + 1) * o over the layers."""
    return sum((i + 1) * o for i, o in layers(widths))


ADAM_BYTES = 7 * 4  # per float32 parameter: read p, g, m, v; write p, m, v


def adam_steps(models: int, steps: int) -> Callable[[], None]:
    """``steps`` fused Adam steps on one flat buffer of ``models`` models' parameters (the
    trainer's optimiser, :func:`leakbench.training.optim.make_optimizer`)."""
    flat = torch.zeros(models * parameter_count())
    flat.grad = torch.randn_like(flat)
    optimizer = torch.optim.Adam([flat], lr=1e-3, fused=True)
    optimizer.step()  # the state exists before timing

    def run() -> None:
        for _ in range(steps):
            optimizer.step()

    return run


def repeat(call: Callable[[], None], times: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(times):
            call()

    return run


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal counts."""
    return [len(a) for a in np.array_split(np.arange(total), parts)]


def build_items(
    args: argparse.Namespace,
) -> tuple[list[Item], dict[str, tuple[str, ...]], dict[str, Callable[[], object]]]:
    """The timed items; for each training item the GEMM items it is compared with; and
    the calls ``--profile`` profiles."""
    t, k, b = args.threads, args.models, args.batch_size
    steps = 16  # GEMM steps per timed call, long enough to time
    rng = np.random.default_rng(0)
    pool = 2 * args.records
    x = rng.random((pool, WIDTHS[0]), dtype=np.float32)
    y = rng.integers(0, WIDTHS[-1], pool)
    keep = np.zeros((k, pool), dtype=bool)
    for row in keep:
        row[rng.choice(pool, args.records, replace=False)] = True
    config = TrainConfig(epochs=args.epochs, batch_size=b, lr=1e-3)

    def trainer(train: Callable[..., object], workers: int | None) -> Callable[[], object]:
        return lambda: train(
            arch="mlp",
            arch_params={"hidden": list(WIDTHS[1:-1])},
            x=x,
            y=y,
            num_classes=WIDTHS[-1],
            keep=keep,
            seeds=list(range(k)),
            config=config,
            workers=workers,
        )

    square = torch.randn(SQUARE, SQUARE)
    step = steps * step_flops(b)
    train = run_flops(args.records, b, args.epochs, k)
    items = [
        Item(f"square GEMM {SQUARE}, {t} threads", 2 * SQUARE**3, lambda: square @ square),
        Item(f"stacked GEMMs K={k}, {t} threads", k * step, repeat(stacked_gemms(k, b), steps)),
        Item(
            f"stacked GEMMs K={k}, {t} x 1-thread workers",
            k * step,
            side_by_side([repeat(stacked_gemms(s, b), steps) for s in shares(k, t)]),
        ),
        Item(f"plain GEMMs, {t} threads", step, repeat(plain_gemms(b), steps)),
        Item(
            f"plain GEMMs, {t} x 1-thread workers",
            t * step,
            side_by_side([repeat(plain_gemms(b), steps) for _ in range(t)]),
        ),
        Item(
            f"fused Adam steps K={k}, {t} x 1-thread workers",
            0,
            side_by_side([adam_steps(s, steps) for s in shares(k, t)]),
            moved=steps * k * parameter_count() * ADAM_BYTES,
        ),
        Item(f"train_stacked K={k}, {t} workers", train, trainer(train_stacked, None)),
        Item(f"train_stacked K={k}, 1 worker", train, trainer(train_stacked, 1)),
        Item(f"train_sequential {k} models, {t} workers", train, trainer(train_sequential, None)),
        Item(f"train_sequential {k} models, 1 worker", train, trainer(train_sequential, 1)),
    ]
    stacked, plain = (items[1].label, items[2].label), (items[3].label, items[4].label)
    against = {item.label: stacked if "stacked" in item.label else plain for item in items[6:]}
    profiled = {
        f"train_stacked K={k}, one 1-thread worker": with_threads(1, trainer(train_stacked, 1)),
        f"train_stacked K={k}, 1 worker of {t} threads": trainer(train_stacked, 1),
        f"train_sequential {k} models, one 1-thread worker": with_threads(
            1, trainer(train_sequential, 1)
        ),
        f"train_sequential {k} models, 1 worker of {t} threads": trainer(train_sequential, 1),
    }
    return items, against, profiled


GEMM_OPS = ("aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm")
OPTIMISER_OPS = ("aten::_fused_adam_",)


def profile_shares(call: Callable[[], object]) -> dict[str, float]:
    """Shares of the self CPU time of one ``call``: matmuls, optimiser, the rest."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        call()
    times = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
    total = sum(times.values())
    gemm = sum(times.get(op, 0.0) for op in GEMM_OPS)
    optimiser = sum(times.get(op, 0.0) for op in OPTIMISER_OPS)
    return {"GEMMs": gemm / total, "optimiser": optimiser / total,
            "rest": 1 - (gemm + optimiser) / total}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--models", type=int, default=8, help="K, models trained (default 8)")
    parser.add_argument("--records", type=int, default=1024, help="records per model")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds, best kept")
    parser.add_argument("--profile", action="store_true", help="print each trainer's shares")
    args = parser.parse_args()
    configure_torch(args.threads)
    items, against, profiled = build_items(args)
    for item in items:  # warm-up: load kernels, grow allocator pools
        item.call()
    for _ in range(args.rounds):
        for item in items:
            item.time_once()
    square = items[0]
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), K = {args.models}, "
        f"{args.records} records, batch {args.batch_size}, {args.epochs} epoch(s), "
        f"best of {args.rounds} interleaved rounds"
    )
    print(f"{'':<44}{'seconds':>9}{'GFLOP/s':>9}{'/ GEMMs':>9}{'/ square':>9}")
    rates = {item.label: item.rate for item in items}
    for item in items:
        if item.moved:
            gemms = items[2]  # the same steps' stacked GEMMs, side by side
            print(
                f"{item.label:<44}{item.best:>9.3f}  {item.moved / item.best / 1e9:.1f} GB/s; "
                f"with GEMMs + Adam in turn, training is at most "
                f"{gemms.best / (gemms.best + item.best):.2f} of the GEMM rate"
            )
            continue
        best_gemm = max((rates[label] for label in against.get(item.label, ())), default=None)
        ratio = f"{item.rate / best_gemm:>9.2f}" if best_gemm else f"{'':>9}"
        print(
            f"{item.label:<44}{item.best:>9.3f}{item.rate:>9.1f}{ratio}"
            f"{item.rate / square.rate:>9.2f}",
            flush=True,
        )
    print("/ GEMMs: against the better arrangement of the same shapes' GEMMs in this run")
    if args.profile:
        for label, call in profiled.items():
            shares_ = profile_shares(call)
            print(
                f"{label:<52} self CPU: "
                + ", ".join(f"{name} {share:.0%}" for name, share in shares_.items()),
                flush=True,
            )


if __name__ == "__main__":
    main()
