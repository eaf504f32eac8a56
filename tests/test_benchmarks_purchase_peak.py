"""The Purchase-peak benchmark's FLOP count and model groups, on hand-computed cases
(nothing is timed)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def peak(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("purchase_peak")


def test_step_flops_by_hand(peak: ModuleType) -> None:
    # widths 3-4-2, batch 5: layer 1 (3x4) forward + weight gradient 2 * 2*5*3*4 = 240,
    # layer 2 (4x2) forward + weight and input gradients 3 * 2*5*4*2 = 240.
    assert peak.step_flops(5, (3, 4, 2)) == 480
    # the Purchase MLP: S = 600*1024 + 1024*512 + 512*256 + 256*128 + 128*100 = 1,315,328
    assert peak.step_flops(64) == 2 * 64 * (3 * 1_315_328 - 600 * 1024)


def test_run_flops_count_the_short_last_batch(peak: ModuleType) -> None:
    # 100 records at batch 64: one batch of 64 and one of 36, 2 epochs, 3 models
    expected = 3 * 2 * (peak.step_flops(64) + peak.step_flops(36))
    assert peak.run_flops(100, 64, 2, 3) == expected


def test_gemm_steps_run_the_counted_matmuls(peak: ModuleType) -> None:
    """Every matmul the step functions run, with its FLOPs, sums to step_flops."""
    counted = []
    real_bmm, real_baddbmm = torch.bmm, torch.baddbmm

    def bmm(a, b, **kwargs):
        counted.append(2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2])
        return real_bmm(a, b, **kwargs)

    def baddbmm(c, a, b):
        counted.append(2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2])
        return real_baddbmm(c, a, b)

    mp = pytest.MonkeyPatch()
    mp.setattr(torch, "bmm", bmm)
    mp.setattr(torch, "baddbmm", baddbmm)
    try:
        peak.stacked_gemms(3, 8)()
    finally:
        mp.undo()
    assert sum(counted) == 3 * peak.step_flops(8)


def test_shares_split_models_near_evenly(peak: ModuleType) -> None:
    assert peak.shares(5, 2) == [3, 2]
    assert peak.shares(8, 2) == [4, 4]


def test_parameter_count_by_hand(peak: ModuleType) -> None:
    # widths 3-4-2: (3 + 1) * 4 + (4 + 1) * 2 = 26 weights and biases
    assert peak.parameter_count((3, 4, 2)) == 26
