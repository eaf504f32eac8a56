"""The torch device that training and prediction run on.

The device is a runtime setting (environment variable ``LEAKBENCH_DEVICE``, set by a
Snakemake profile or the shell), never part of the experiment config: the same config
gives the same models on any device, up to floating-point differences between devices.
"""

from __future__ import annotations

import os
import re

import torch

from leakbench.errors import ConfigError

DEVICE_ENV = "LEAKBENCH_DEVICE"
_CUDA = re.compile(r"cuda(:\d+)?")


def resolve_device() -> torch.device:
    """The device named by ``$LEAKBENCH_DEVICE``: ``cpu`` (the default), ``cuda``, ``cuda:N``
    or ``auto`` (CUDA when this process sees a CUDA device, e.g. a Slurm job given a GPU,
    else the CPU).

    Choosing CUDA also sets ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` unless it is already set,
    which cuBLAS needs for the deterministic matmuls that ``torch.use_deterministic_algorithms``
    asks for.

    Raises:
        ConfigError: naming the variable, its value and the allowed values, if the value
            is not one of them or names a CUDA device this machine does not have.
    """
    name = os.environ.get(DEVICE_ENV, "").strip() or "cpu"
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if name == "auto":
        name = "cuda" if count else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if _CUDA.fullmatch(name) and count > 0:
        device = torch.device(name)
        if (device.index or 0) < count:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            return device
    allowed = (
        f"cpu, auto, cuda, cuda:0 .. cuda:{count - 1}"
        if count
        else "cpu, auto (this machine has no CUDA device)"
    )
    raise ConfigError(f"{DEVICE_ENV}: {name!r} is not allowed; allowed: {allowed}")
