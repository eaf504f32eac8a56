"""Stacked models on disk as safetensors: no pickle, deterministic bytes, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from leakbench.errors import DataError
from leakbench.io import write_bytes
from leakbench.training.stacked import StackedModels

_KEY = "leakbench"


def save_models(path: str | Path, models: StackedModels) -> None:
    """Write the parameters and, in the header, arch, arch_params, shapes and seeds."""
    meta = {
        "arch": models.arch,
        "arch_params": models.arch_params,
        "input_shape": list(models.input_shape),
        "num_classes": models.num_classes,
        "seeds": list(models.seeds),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in sorted(models.params.items())}
    write_bytes(path, save(tensors, metadata={_KEY: json.dumps(meta, sort_keys=True)}))


def load_models(path: str | Path) -> StackedModels:
    """Read models written by :func:`save_models` (safetensors never executes code).

    Raises:
        DataError: naming the file, if it is not a leakbench safetensors checkpoint.
    """
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = json.loads((fh.metadata() or {})[_KEY])
            params = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    except (OSError, KeyError, ValueError, SafetensorError) as err:
        raise DataError(f"{path}: not a readable leakbench checkpoint ({err})") from err
    return StackedModels(
        arch=meta["arch"],
        arch_params=meta["arch_params"],
        input_shape=tuple(meta["input_shape"]),
        num_classes=meta["num_classes"],
        seeds=tuple(meta["seeds"]),
        params=params,
    )
