"""Progress lines of long jobs: bounded rate, throughput, time left, loss summary; a
training job's log in the workflow shows them."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import torch
from conftest import random_data

from leakbench.errors import ConfigError
from leakbench.privacy import DPConfig
from leakbench.training import Hooks, TrainConfig, predict_logits, train_stacked
from leakbench.training.progress import (
    INTERVAL_ENV,
    ProgressMeter,
    format_seconds,
    progress_interval,
)

PROGRESS_LOGGER = "leakbench.training.progress"
LINE = re.compile(
    r"training (\d+) models?: step (\d+)/(\d+) \(epoch (\d+)/(\d+)\), "
    r"loss ([\d.]+)/([\d.]+)/([\d.]+) \(min/mean/max\), [\d,]+ model-samples/s, "
    r"\S+ elapsed, \S+ left"
)


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_come_at_most_once_per_interval_plus_the_last(caplog):
    clock = Clock()
    meter = ProgressMeter(
        label="job", unit="step", total=100, models=4, samples_per_unit=8, interval=10,
        clock=clock, bar=False,
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger=PROGRESS_LOGGER):
        for step in range(1, 101):
            clock.now += 1.0  # one step a second: a line every 10 steps at most
            meter.update(step)
        meter.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 10  # at 10, 20, ..., 90 s, then the last
    assert lines[0] == "job: step 10/100, 32 model-samples/s, 10s elapsed, 1m30s left"
    assert lines[-1] == "job: step 100/100, 32 model-samples/s, 1m40s elapsed, 0s left"


def test_time_formats_and_the_interval_setting(monkeypatch):
    assert [format_seconds(s) for s in (3, 123, 3723)] == ["3s", "2m03s", "1h02m03s"]
    monkeypatch.setenv(INTERVAL_ENV, "2.5")
    assert progress_interval() == 2.5
    monkeypatch.setenv(INTERVAL_ENV, "soon")
    with pytest.raises(ConfigError, match=rf"{INTERVAL_ENV}: 'soon' is not allowed"):
        progress_interval()


def train(hooks=None, epochs=3, privacy=None):
    x, y = random_data((7,), 120)
    keep = np.zeros((3, 120), dtype=bool)
    for k in range(3):
        keep[k, k * 20 : k * 20 + 60] = True
    return train_stacked(
        arch="mlp",
        arch_params={"hidden": [9, 5]},
        x=x,
        y=y,
        num_classes=3,
        keep=keep,
        seeds=[1, 2, 3],
        config=TrainConfig(epochs=epochs, batch_size=16, lr=0.01, privacy=privacy),
        hooks=hooks,
    )


def test_training_logs_step_epoch_loss_throughput_and_time_left_without_changing_models(
    deterministic_torch, monkeypatch, caplog
):
    monkeypatch.setenv(INTERVAL_ENV, "1e9")  # only the last line
    quiet = train()
    monkeypatch.setenv(INTERVAL_ENV, "0")  # a line (and a loss evaluation) every step
    calls = []
    with caplog.at_level(logging.INFO, logger=PROGRESS_LOGGER):
        loud = train(hooks=Hooks(callback=calls.append, every="round"))
    for name in quiet.params:
        assert torch.equal(quiet.params[name], loud.params[name]), name
    assert [p.round for p in calls] == [0, 1, 2]  # the caller's per-round callback still runs
    matches = [LINE.fullmatch(r.getMessage()) for r in caplog.records]
    assert all(matches) and len(matches) == 3  # after rounds 1 and 2 (the callback rate), last
    last = matches[-1].groups()
    assert last[:5] == ("3", "12", "12", "3", "3")  # 3 models, 60 records / 16 = 4 steps x 3
    low, mean, high = map(float, last[5:8])
    assert 0 < low <= mean <= high


def test_dp_training_counts_the_accountants_steps(deterministic_torch, caplog):
    privacy = DPConfig(epsilon=4.0, delta=1e-3, max_grad_norm=0.5)
    with caplog.at_level(logging.INFO, logger=PROGRESS_LOGGER):
        models = train(epochs=2, privacy=privacy)
    steps = models.privacy["steps"]
    last = LINE.fullmatch(caplog.records[-1].getMessage())
    assert last and last.group(2) == last.group(3) == str(steps)


def test_prediction_logs_rows_and_throughput(deterministic_torch, caplog):
    models = train(epochs=1)
    x, _ = random_data((7,), 50, seed=1)
    with caplog.at_level(logging.INFO, logger=PROGRESS_LOGGER):
        predict_logits(models, x, batch_size=20)
    assert re.fullmatch(
        r"predicting 3 models: row 50/50, [\d,]+ model-samples/s, \S+ elapsed, 0s left",
        caplog.records[-1].getMessage(),
    )


@pytest.mark.workflow
def test_a_training_jobs_log_shows_progress(runs):
    logs = sorted((runs["2"] / "results/logs/train_membership").rglob("*.log"))
    assert logs
    text = logs[0].read_text()
    line = next(line for line in text.splitlines() if "training " in line)
    assert LINE.search(line), line
