"""The torch device jobs run on: a runtime setting, never part of the experiment config."""

from __future__ import annotations

import os

import torch

from leakbench.errors import ConfigError

ENV = "LEAKBENCH_DEVICE"


def get_device() -> torch.device:
    """``$LEAKBENCH_DEVICE`` (``cpu`` by default, or ``cuda``/``cuda:N`` when available)."""
    name = os.environ.get(ENV, "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda") and torch.cuda.is_available():
        return torch.device(name)
    allowed = "cpu, cuda, cuda:N" if torch.cuda.is_available() else "cpu (no CUDA device here)"
    raise ConfigError(f"{ENV}: {name!r} is not allowed; allowed: {allowed}")
