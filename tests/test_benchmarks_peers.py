"""The peer benchmark's arithmetic and shapes, on hand-computed cases (nothing is timed and
ART is not needed)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
import yaml

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    """The benchmark scripts as modules (they import each other by bare name)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    names = ("peer_table", "peers", "stacked_trainer")
    return {name: importlib.import_module(name) for name in names}


def test_rows_hand_computed(bench: dict[str, ModuleType]) -> None:
    table = bench["peer_table"]
    work = table.Work(models=17, members=100, epochs=2, flops_per_sample=600)
    assert work.samples == 3400
    outcomes = [
        table.Outcome("leakbench", "s", wall_s=2.0, train_s=1.0, attack_s=0.5, auc=0.7),
        table.Outcome("art", "s", wall_s=20.0, train_s=10.0, attack_s=5.0, auc=0.6),
    ]
    ours, art = table.rows(outcomes=outcomes, work=work, matmul_gflops=0.002)
    # 3400 model-samples * 600 FLOPs = 2.04e6 FLOPs
    assert ours.samples_per_s == pytest.approx(1700.0)
    assert art.samples_per_s == pytest.approx(170.0)
    assert ours.train_gflops == pytest.approx(2.04e-3)
    assert art.train_gflops == pytest.approx(2.04e-4)
    assert ours.train_peak_share == pytest.approx(1.02)  # 2.04e6 FLOP/s of 2e6
    assert art.train_peak_share == pytest.approx(0.102)
    assert ours.peak_share == pytest.approx(0.51)  # 1.02e6 FLOP/s of 2e6
    assert art.peak_share == pytest.approx(0.051)
    assert (ours.leakbench_speedup, art.leakbench_speedup) == (1.0, 10.0)
    assert art.as_dict()["tool"] == "art"
    assert art.as_dict()["leakbench_speedup"] == 10.0


def test_rows_refuse_a_table_without_one_leakbench_run(bench: dict[str, ModuleType]) -> None:
    table = bench["peer_table"]
    work = table.Work(models=1, members=1, epochs=1, flops_per_sample=1)
    art = table.Outcome("art", "s", wall_s=1.0, train_s=1.0, attack_s=0.0, auc=0.5)
    with pytest.raises(ValueError, match="exactly one leakbench run"):
        table.rows(outcomes=[art], work=work, matmul_gflops=1.0)
    other = table.Outcome("leakbench", "t", wall_s=1.0, train_s=1.0, attack_s=0.0, auc=0.5)
    with pytest.raises(ValueError, match="one shape"):
        table.rows(outcomes=[art, other], work=work, matmul_gflops=1.0)


def test_row_lines_up_with_the_header(bench: dict[str, ModuleType]) -> None:
    table = bench["peer_table"]
    work = table.Work(models=17, members=2500, epochs=30, flops_per_sample=66816)
    # The longest label of the benchmarked shapes: it once ran into the tool's name.
    outcome = table.Outcome("plain", "purchase_synth mlp-128", 12.5, 10.0, 2.0, auc=0.5123)
    ours = table.Outcome("leakbench", "purchase_synth mlp-128", 5.0, 2.5, 2.0, auc=0.5)
    line = table.format_row(table.rows(outcomes=[ours, outcome], work=work, matmul_gflops=100)[1])
    assert len(line) == len(table.HEADER)
    assert line.split()[:3] == ["purchase_synth", "mlp-128", "plain"]
    assert line.split()[-2:] == ["0.512", "2.50"]


def test_mlp_training_flops_formula(bench: dict[str, ModuleType]) -> None:
    """6 * sum(fan_in * fan_out): the Adult MLP 108-64-64-2."""
    shape = bench["stacked_trainer"].Shape("adult", "mlp", (64, 64), 108, 2, 2500, 1)
    assert 3 * shape.forward_flops() == 6 * (108 * 64 + 64 * 64 + 64 * 2) == 66816


def test_peer_shapes_are_the_default_config_rows(bench: dict[str, ModuleType]) -> None:
    config = yaml.safe_load(bench["peers"].CONFIG.read_text())
    grid = {(r["dataset"], r["variant"]): r for r in config["membership"]["grid"]}
    shapes = bench["peers"].peer_shapes(config, shadows=16, attack_model="logreg")
    assert [s.label for s in shapes] == ["adult mlp-64-64", "purchase_synth mlp-128"]
    for shape, key in zip(shapes, bench["peers"].GRID_ROWS, strict=True):
        row = grid[key]
        assert shape.hidden == tuple(row["arch_params"]["hidden"])
        assert (shape.members, shape.epochs, shape.batch_size, shape.lr) == (
            row["members"],
            row["epochs"],
            row["batch_size"],
            row["lr"],
        )
        assert (shape.shadows, shape.attack_model) == (16, "logreg")
        assert type(shape).from_json(shape.to_json()) == shape
        assert len(set(shape.model_seeds())) == 17
