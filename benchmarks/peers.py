"""Benchmark: leakbench against IBM ART and a plain PyTorch loop on the same work.

For two membership grid rows of the default config (config/config.yaml) -- the Adult
MLP 64-64 (overhead-bound) and the Purchase MLP-128 on purchase_synth (compute-bound) --
each tool trains a target and 16 shadow models with the row's epochs, batch size and
learning rate, then runs a shadow-model membership attack (Shokri et al. 2017, section V);
see ``peer_tools.py`` for what each tool does. Each tool runs in a fresh process, so its
wall time includes the cold start (interpreter, imports, first calls). Data preparation is
done once beforehand and not timed.

The same run measures the machine's fp32 matmul rate at the same thread count
(``stacked_trainer.matmul_peak``) and, for reference, the training rate of the
Purchase-shaped MLP 600-1024-512-256-128-100 (``stacked_trainer``'s "mlp purchase"),
stacked (K = 16) and one model at a time, as a fraction of it. Rates, FLOP counts and
ratios are defined in ``peer_table.py`` (FLOPs per model-sample = 6 * sum of fan_in *
fan_out over the linear layers).

The attack classifier is the same for every tool, logistic regression by default: the
default config's attack MLP (``--attack-model mlp``) is the same sklearn code in every tool,
and on the Purchase shape its 100 per-class fits (leakbench, plain) or one fit over every
shadow row (ART) take minutes and hide the difference in training this script measures.

ART (``adversarial-robustness-toolbox``) comes with the optional extra ``peers``
(``pip install -e '.[peers]'``); ``make benchmark-peers`` installs it and runs this script.

Run: python benchmarks/peers.py --json results/benchmarks/peers.json [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from peer_table import HEADER, LEAKBENCH, Outcome, Work, format_row, rows

if TYPE_CHECKING:  # imported at run time only after the thread count is set
    from peer_tools import PeerShape

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "config" / "config.yaml"
GRID_ROWS = (("adult", "mlp"), ("purchase_synth", "mlp128"))
"""The default config's membership rows benchmarked: (dataset, variant)."""
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "LEAKBENCH_THREADS")


def peer_shapes(config: dict[str, Any], *, shadows: int, attack_model: str) -> list[PeerShape]:
    """The benchmarked :class:`peer_tools.PeerShape` of each row of :data:`GRID_ROWS`."""
    from peer_tools import PeerShape

    grid = {(r["dataset"], r["variant"]): r for r in config["membership"]["grid"]}
    shapes = []
    for key in GRID_ROWS:
        row = grid[key]
        hidden = tuple(row["arch_params"]["hidden"])
        shapes.append(
            PeerShape(
                label=f"{row['dataset']} mlp-{'-'.join(map(str, hidden))}",
                dataset=row["dataset"],
                variant=row["variant"],
                hidden=hidden,
                members=row["members"],
                epochs=row["epochs"],
                batch_size=row["batch_size"],
                lr=row["lr"],
                shadows=shadows,
                seed=config["seed"],
                attack_model=attack_model,
            )
        )
    return shapes


def prepare(shape: PeerShape, *, config: dict[str, Any], folder: Path) -> tuple[int, int]:
    """Write the shape's pool (the workflow's fetch and prepare) and membership split
    (the workflow's split) under ``folder``; return (features, classes)."""
    from leakbench.data import fetch_raw
    from leakbench.data.registry import get_dataset
    from leakbench.io import write_npz
    from leakbench.seeding import derive_seed
    from leakbench.studies.splits import make_splits

    spec = get_dataset(shape.dataset)
    raw_dir = folder / "raw"
    fetch_raw(spec, raw_dir=raw_dir)
    pool = spec.prepare(
        raw_dir=raw_dir,
        seed=derive_seed(config["seed"], "data", shape.dataset),
        **config.get("data", {}).get(shape.dataset, {}),
    )
    pool.save(folder / "pool.npz")
    splits = make_splits(
        n_pool=len(pool),
        members=shape.members,
        shadows=shape.shadows,
        seed=derive_seed(config["seed"], "membership", shape.dataset, shape.variant, "splits"),
    )
    write_npz(folder / "splits.npz", **splits.arrays())
    (folder / "shape.json").write_text(shape.to_json())
    return int(pool.x.shape[1]), pool.num_classes


def run_tool(tool: str, shape: PeerShape, *, folder: Path, threads: int) -> Outcome:
    """Run one tool in a fresh process; its wall time is the process's, start to exit."""
    command = [sys.executable, str(HERE / "peer_tools.py"), tool]
    command += ["--data", str(folder), "--shape", str(folder / "shape.json")]
    command += ["--threads", str(threads)]
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return Outcome(tool=tool, shape=shape.label, wall_s=wall, **measured)


def purchase_rates() -> dict[str, float]:
    """GFLOP/s of the Purchase-shaped MLP, stacked (K = 16) and one model at a time (on 4
    models), as ``stacked_trainer.bench_shape`` measures them (batch 64, one epoch, both
    trainers warmed up, best of the shape's repeats)."""
    import numpy as np
    from stacked_trainer import SHAPES, Job, best_time, random_keep

    from leakbench.training import TrainConfig, train_sequential, train_stacked

    shape = next(s for s in SHAPES if s.label == "mlp purchase")
    rng = np.random.default_rng(0)
    pool = 2 * shape.records
    job = Job(
        shape,
        rng.random((pool, shape.features), dtype=np.float32),
        rng.integers(0, shape.classes, pool),
        TrainConfig(epochs=1, batch_size=64, lr=1e-3),
    )
    warm = random_keep(rng, 1, pool, 256)
    for trainer in (train_stacked, train_sequential):  # load kernels, grow allocator pools
        job.runner(trainer, warm)()
    rates = {}
    for name, trainer, k in (("stacked", train_stacked, 16), ("plain", train_sequential, 4)):
        keep = random_keep(rng, k, pool, shape.records)
        seconds = best_time(job.runner(trainer, keep), shape.repeats, lambda: None)
        rates[name] = k * shape.records * 3 * shape.forward_flops() / seconds / 1e9
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True, help="where to write the results")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--shadows", type=int, default=16, help="shadow models (default 16)")
    parser.add_argument("--tools", default="leakbench,art,plain", help="comma-separated")
    parser.add_argument(
        "--attack-model",
        default="logreg",
        help="the attack classifier of every tool (default logreg; see the module docstring)",
    )
    parser.add_argument(
        "--work-dir", type=Path, default=Path("results/benchmarks/peers"), help="data folder"
    )
    args = parser.parse_args()
    for name in THREAD_ENV:  # before torch is imported, here and in every tool's process
        os.environ[name] = str(args.threads)

    import torch
    from stacked_trainer import Shape, matmul_peak

    from leakbench.attacks.shokri import ATTACK_MODELS
    from leakbench.seeding import configure_torch

    if args.attack_model not in ATTACK_MODELS:
        parser.error(
            f"--attack-model: {args.attack_model!r} is not allowed; allowed: "
            f"{', '.join(ATTACK_MODELS)}"
        )
    configure_torch(args.threads)
    matmul = matmul_peak(torch.device("cpu"), lambda: None)
    purchase = purchase_rates()
    print(
        f"torch {torch.__version__}, {args.threads} thread(s); matmul {matmul:.1f} GFLOP/s; "
        "Purchase MLP 600-1024-512-256-128-100: "
        + ", ".join(f"{k} {v:.1f} GFLOP/s ({100 * v / matmul:.0f}%)" for k, v in purchase.items()),
        flush=True,
    )
    config = yaml.safe_load(CONFIG.read_text())
    tools = [LEAKBENCH, *(t for t in args.tools.split(",") if t != LEAKBENCH)]
    report: dict[str, Any] = {
        "threads": args.threads,
        "torch": torch.__version__,
        "matmul_gflops": matmul,
        "purchase_mlp_gflops": purchase,
        "flops_formula": "6 * sum(fan_in * fan_out) per model-sample",
        "shapes": [],
    }
    print(HEADER, flush=True)
    for shape in peer_shapes(config, shadows=args.shadows, attack_model=args.attack_model):
        folder = args.work_dir / shape.dataset
        features, classes = prepare(shape, config=config, folder=folder)
        flops = Shape(shape.label, "mlp", shape.hidden, features, classes, shape.members, 1)
        work = Work(
            models=shape.shadows + 1,
            members=shape.members,
            epochs=shape.epochs,
            flops_per_sample=3 * flops.forward_flops(),
        )
        outcomes: list[Outcome] = []
        for tool in tools:  # leakbench first: each row prints as soon as its tool is done
            outcomes.append(run_tool(tool, shape, folder=folder, threads=args.threads))
            table = rows(outcomes=outcomes, work=work, matmul_gflops=matmul)
            print(format_row(table[-1]), flush=True)
        report["shapes"].append(
            {
                "shape": json.loads(shape.to_json()),
                "model_samples": work.samples,
                "flops_per_model_sample": work.flops_per_sample,
                "rows": [row.as_dict() for row in table],
            }
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
