"""Signs of life from long jobs: progress lines at a bounded rate, and a progress bar.

A :class:`ProgressMeter` counts units of work (optimiser steps, query rows) against a
known total. It logs one line at most every ``interval`` seconds and always the last one
(``LEAKBENCH_PROGRESS_SECONDS`` sets the interval, default 10 s), each with the count, the
throughput in model-samples per second (one record through one of the K stacked models
counts one) and an estimate of the time left; a training meter adds the loss summary over
its K models. A job under Snakemake logs to its ``log:`` file (:mod:`leakbench.runlog`);
an interactive run (stderr a terminal, no log file configured) shows a tqdm bar instead.
Nothing here touches a random generator or an output, so results stay byte-identical.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm import tqdm

from leakbench.errors import ConfigError
from leakbench.training.engine import Engine
from leakbench.training.hooks import Progress

INTERVAL_ENV = "LEAKBENCH_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 10.0
PROBE_RECORDS = 256  # records in the shared batch a training meter's loss is measured on

logger = logging.getLogger(__name__)


def progress_interval() -> float:
    """Seconds between two progress lines: ``$LEAKBENCH_PROGRESS_SECONDS``, else 10.

    Raises:
        ConfigError: if the variable is not a number >= 0.
    """
    text = os.environ.get(INTERVAL_ENV, str(DEFAULT_INTERVAL))
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value >= 0:
        raise ConfigError(f"{INTERVAL_ENV}: {text!r} is not allowed; allowed: a number >= 0")
    return value


def interactive() -> bool:
    """True when stderr is a terminal and no log file takes the job's records."""
    handlers = logging.getLogger().handlers
    return sys.stderr.isatty() and not any(isinstance(h, logging.FileHandler) for h in handlers)


def format_seconds(seconds: float) -> str:
    """``seconds`` as ``1h02m03s``, ``2m03s`` or ``3s``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@dataclass(frozen=True)
class LossSummary:
    """The loss of K models: the smallest, the mean and the largest."""

    low: float
    mean: float
    high: float

    @classmethod
    def of(cls, losses: torch.Tensor) -> LossSummary:
        """The summary of the per-model losses ``[K]``."""
        return cls(float(losses.min()), float(losses.mean()), float(losses.max()))

    def __str__(self) -> str:
        return f"loss {self.low:.4f}/{self.mean:.4f}/{self.high:.4f} (min/mean/max)"


class ProgressMeter:
    """Counts ``total`` units of work of ``models`` stacked models, each unit
    ``samples_per_unit`` records per model, and reports at a bounded rate.

    Args:
        label: what the work is, first on every line (e.g. ``training 16 models``).
        unit: the name of a unit (``step``, ``row``).
        total: units in the whole job.
        models: K, the stacked models each record goes through.
        samples_per_unit: records per model in one unit (the mean batch size for steps).
        interval: seconds between lines (the last line comes regardless); None for
            :func:`progress_interval`.
        clock: seconds from a fixed origin (``time.monotonic``).
        bar: show a tqdm bar; None for :func:`interactive`.
    """

    def __init__(
        self,
        *,
        label: str,
        unit: str,
        total: int,
        models: int,
        samples_per_unit: float,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        bar: bool | None = None,
    ) -> None:
        self.label, self.unit, self.total = label, unit, total
        self.samples_per_unit = models * samples_per_unit
        self.interval = progress_interval() if interval is None else interval
        self._clock = clock
        self._start = self._last = clock()
        self._done = 0
        self._bar = (
            tqdm(total=total, desc=label, unit=unit, leave=False)
            if (interactive() if bar is None else bar)
            else None
        )

    def update(
        self, done: int, *, detail: str = "", loss: Callable[[], LossSummary | None] | None = None
    ) -> None:
        """Record that ``done`` units of the total are done; log a line if ``interval``
        seconds have passed since the last. ``detail`` is added to the count (e.g. the
        epoch); ``loss`` is called only for a line or the bar."""
        if self._bar is not None:
            self._bar.update(done - self._done)
        self._done = done
        now = self._clock()
        if now - self._last >= self.interval and done < self.total:
            self._last = now
            self._emit(now, detail, loss)

    def close(
        self, *, detail: str = "", loss: Callable[[], LossSummary | None] | None = None
    ) -> None:
        """Log the last line and close the bar."""
        self._emit(self._clock(), detail, loss)
        if self._bar is not None:
            self._bar.close()

    def line(self, now: float, detail: str = "", loss: LossSummary | None = None) -> str:
        """The progress line at time ``now``."""
        elapsed = now - self._start
        rate = self._done * self.samples_per_unit / elapsed if elapsed > 0 else math.inf
        left = (self.total - self._done) * elapsed / self._done if self._done else math.inf
        parts = [f"{self.label}: {self.unit} {self._done}/{self.total}"]
        parts[0] += f" ({detail})" if detail else ""
        if loss is not None:
            parts.append(str(loss))
        parts.append(f"{rate:,.0f} model-samples/s")
        parts.append(
            f"{format_seconds(elapsed)} elapsed, "
            + (f"{format_seconds(left)} left" if math.isfinite(left) else "time left unknown")
        )
        return ", ".join(parts)

    def _emit(self, now: float, detail: str, loss: Callable[[], LossSummary | None] | None) -> None:
        summary = None if loss is None else loss()
        if self._bar is not None:
            if summary is not None:
                self._bar.set_postfix_str(str(summary))
            return
        logger.info(self.line(now, detail, summary))


class TrainingProgress:
    """The training loop's callback (:class:`~leakbench.training.hooks.Hooks`) that feeds
    a :class:`ProgressMeter`: the epoch, and the loss summary on a probe batch.

    The loss is each model's mean cross-entropy, in eval mode, on one shared probe batch:
    up to :data:`PROBE_RECORDS` records, each model's first training rows in turn, so the
    batch holds records of every model's own training set. It is measured only when a
    line is written.

    Args:
        engine: the stack's engine.
        flat: the stack's flat parameter buffer (read, never written).
        x: the pool's inputs on the device.
        y: the pool's labels on the device.
        rows: int64 ``[K, n]``, model k's pool rows.
        rounds: rounds (epochs) in the job.
        steps: optimiser steps in the job.
        meter: counts the steps; None for one labelled ``training K models``.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        flat: torch.Tensor,
        x: torch.Tensor,
        y: torch.Tensor,
        rows: torch.Tensor,
        rounds: int,
        steps: int,
        meter: ProgressMeter | None = None,
    ) -> None:
        count, n = rows.shape
        self._engine, self._rounds, self._round = engine, rounds, 0
        self._weights, self._started = engine.views(flat), False
        per_model = -(-min(PROBE_RECORDS, count * n) // count)
        probe = rows[:, :per_model].T.reshape(-1)[:PROBE_RECORDS].to(x.device)
        self._x, self._y = x.index_select(0, probe), y.index_select(0, probe)
        self.meter = meter or ProgressMeter(
            label=f"training {count} model{'' if count == 1 else 's'}",
            unit="step",
            total=steps,
            models=count,
            samples_per_unit=n * rounds / max(steps, 1),
        )

    def __call__(self, progress: Progress) -> None:
        """Count the step (or round) just taken."""
        self._round, self._started = progress.round, True
        self.meter.update(progress.step, detail=self._detail(), loss=self._loss)

    def close(self) -> None:
        """Write the last line (after the last step)."""
        self.meter.close(detail=self._detail(), loss=self._loss)

    def _detail(self) -> str:
        return f"epoch {self._round + 1}/{self._rounds}"

    @torch.no_grad()
    def _loss(self) -> LossSummary | None:
        if not self._started:
            return None
        logits = self._engine.logits(self._weights, self._x)  # [K, B, C]
        count = logits.shape[0]
        losses = torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), self._y.repeat(count), reduction="none"
        )
        return LossSummary.of(losses.view(count, -1).mean(dim=1))
