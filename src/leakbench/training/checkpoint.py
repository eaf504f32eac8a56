"""Stacked models on disk: one safetensors file, no pickle, deterministic bytes.

The file holds one tensor per parameter name (``[K, *shape]``, float32) and, in the
safetensors header's metadata under the single key ``"leakbench"``, canonical JSON with
the architecture, its parameters, the input shape, the class count, the seeds and the DP
noise calibration (null without DP). One
metadata key keeps the header's bytes fixed (the format stores metadata as a map, whose
order is not otherwise guaranteed); tensors are ordered by the format itself. Loading
parses JSON and raw little-endian arrays only, so a checkpoint cannot run code.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from leakbench.errors import ConfigError, DataError
from leakbench.io import write_bytes
from leakbench.training.ensemble import StackedModels

METADATA_KEY = "leakbench"
FORMAT = "leakbench.stacked_models/2"
_KEYS = {"format", "arch", "arch_params", "input_shape", "num_classes", "seeds", "privacy"}


def save_models(path: str | os.PathLike[str], models: StackedModels) -> None:
    """Write ``models`` to ``path`` atomically; the same models always give the same bytes."""
    meta = {
        "format": FORMAT,
        "arch": models.arch,
        "arch_params": models.arch_params,
        "input_shape": list(models.input_shape),
        "num_classes": models.num_classes,
        "seeds": list(models.seeds),
        "privacy": models.privacy,
    }
    header = json.dumps(meta, sort_keys=True, separators=(",", ":"), allow_nan=False)
    tensors = {
        name: t.detach().to("cpu", torch.float32).contiguous()
        for name, t in sorted(models.params.items())
    }
    write_bytes(path, save(tensors, metadata={METADATA_KEY: header}))


def load_models(path: str | os.PathLike[str]) -> StackedModels:
    """Read models written by :func:`save_models` (onto the CPU).

    Raises:
        DataError: naming the file, if it is not a readable leakbench checkpoint or its
            tensors do not fit the architecture in its header.
    """
    try:
        with safe_open(os.fspath(path), framework="pt", device="cpu") as handle:
            meta: dict[str, Any] = json.loads((handle.metadata() or {})[METADATA_KEY])
            params = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    except (OSError, KeyError, ValueError, SafetensorError) as err:
        raise DataError(f"{path}: not a readable leakbench checkpoint ({err!r})") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or set(meta) != _KEYS:
        raise DataError(
            f"{path}: header {meta!r} is not allowed; allowed: {FORMAT} metadata with keys "
            f"{', '.join(sorted(_KEYS))}"
        )
    models = StackedModels(
        arch=meta["arch"],
        arch_params=meta["arch_params"],
        input_shape=tuple(meta["input_shape"]),
        num_classes=meta["num_classes"],
        seeds=tuple(meta["seeds"]),
        params=params,
        privacy=meta["privacy"],
    )
    _check_shapes(path, models)
    return models


def _check_shapes(path: str | os.PathLike[str], models: StackedModels) -> None:
    try:
        expected = {
            name: (models.count, *p.shape) for name, p in models.template().named_parameters()
        }
    except (ConfigError, TypeError) as err:
        raise DataError(f"{path}: header does not describe a model ({err})") from err
    actual = {name: tuple(t.shape) for name, t in models.params.items()}
    if actual != expected:
        raise DataError(
            f"{path}: tensors {sorted(actual.items())} do not match the architecture in the "
            f"header, which needs {sorted(expected.items())}"
        )
