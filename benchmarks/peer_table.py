"""The peer benchmark's arithmetic: rates from measured times, ratios, the printed table.

Pure Python (no torch), so that the formulas are tested without running a benchmark.

Definitions (one row per tool and shape):
    model-samples       = models * members * epochs (one record seen by one model in
                          training counts 1)
    model-samples/s     = model-samples / wall (end to end: process start, imports, training,
                          querying, attack)
    train GFLOP/s       = model-samples * FLOPs per model-sample / training seconds
    train % of peak     = train GFLOP/s / matmul rate (training alone at the compute limit:
                          1.0)
    % of peak           = model-samples * FLOPs per model-sample / wall / matmul rate: the
                          share of the whole run the machine's matmul rate would need to do
                          the training FLOPs (1.0 = the compute limit, end to end)
    ratio to a peer     = the peer's wall time / leakbench's wall time (> 1: leakbench faster)

FLOPs per model-sample of an MLP are ``3 * 2 * sum(fan_in * fan_out)`` over its linear
layers (:meth:`stacked_trainer.Shape.forward_flops` times 3: the forward pass and the two
matmuls of the backward pass, input gradient and weight gradient).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

LEAKBENCH = "leakbench"


@dataclass(frozen=True)
class Outcome:
    """What one tool's process measured on one shape.

    Attributes:
        tool: the tool's name ("leakbench", "art", "plain").
        shape: the shape's label.
        wall_s: the process's wall time, from its start to its exit (cold start included).
        train_s: seconds spent training the target and the shadows.
        attack_s: seconds spent querying the models and running the attack.
        auc: the attack's ROC AUC on the target's members and non-members.
    """

    tool: str
    shape: str
    wall_s: float
    train_s: float
    attack_s: float
    auc: float


@dataclass(frozen=True)
class Work:
    """The training work of one shape, equal for every tool."""

    models: int
    members: int
    epochs: int
    flops_per_sample: int

    @property
    def samples(self) -> int:
        """Model-samples of the whole run: models * members * epochs."""
        return self.models * self.members * self.epochs


@dataclass(frozen=True)
class Row:
    """One printed (and saved) row: an outcome, its rates and its ratio to leakbench."""

    outcome: Outcome
    samples_per_s: float
    train_gflops: float
    train_peak_share: float
    peak_share: float
    leakbench_speedup: float

    def as_dict(self) -> dict[str, Any]:
        """The row as flat JSON-ready values."""
        return {
            **asdict(self.outcome),
            "model_samples_per_s": self.samples_per_s,
            "train_gflops": self.train_gflops,
            "train_peak_share": self.train_peak_share,
            "peak_share": self.peak_share,
            "leakbench_speedup": self.leakbench_speedup,
        }


def rows(*, outcomes: list[Outcome], work: Work, matmul_gflops: float) -> list[Row]:
    """One :class:`Row` per outcome of one shape (see the module docstring).

    Raises:
        ValueError: if the outcomes hold no leakbench run or more than one shape.
    """
    shapes = {o.shape for o in outcomes}
    ours = [o for o in outcomes if o.tool == LEAKBENCH]
    if len(shapes) != 1 or len(ours) != 1:
        raise ValueError(
            f"outcomes: shapes {sorted(shapes)} and {len(ours)} leakbench runs are not "
            "allowed; allowed: one shape with exactly one leakbench run"
        )
    flops = work.samples * work.flops_per_sample
    return [
        Row(
            outcome=o,
            samples_per_s=work.samples / o.wall_s,
            train_gflops=flops / o.train_s / 1e9,
            train_peak_share=flops / o.train_s / (matmul_gflops * 1e9),
            peak_share=flops / o.wall_s / (matmul_gflops * 1e9),
            leakbench_speedup=o.wall_s / ours[0].wall_s,
        )
        for o in outcomes
    ]


HEADER = (
    f"{'shape':<24}{'tool':<11}{'wall s':>8}{'train s':>9}{'attack s':>9}"
    f"{'Ms/s':>8}{'GFLOP/s':>9}{'train %':>8}{'% peak':>8}{'AUC':>7}{'lb x':>7}"
)


def format_row(row: Row) -> str:
    """One table line; ``lb x`` is the tool's wall time over leakbench's."""
    o = row.outcome
    return (
        f"{o.shape:<24}{o.tool:<11}{o.wall_s:>8.1f}{o.train_s:>9.1f}{o.attack_s:>9.1f}"
        f"{row.samples_per_s / 1e6:>8.3f}{row.train_gflops:>9.1f}"
        f"{100 * row.train_peak_share:>7.1f}%{100 * row.peak_share:>7.1f}%"
        f"{o.auc:>7.3f}{row.leakbench_speedup:>7.2f}"
    )
