"""Fitted scikit-learn models on disk: one safetensors file, no pickle, fixed bytes.

The file holds model k's arrays as tensors named ``<k>/<array>`` (k zero-padded) and, in
the header's metadata under the single key ``"leakbench"``, canonical JSON with the
format, the family, its parameters, the input shape, the class count and the seeds: the
layout of :mod:`leakbench.training.checkpoint`, so a grid row's model files have one form
whatever trains them. Loading parses JSON and raw arrays only: a model file cannot run
code. (Pickle, scikit-learn's own format, would run code on load; skops is not installed.)
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save

from leakbench.errors import DataError
from leakbench.estimators.families import get_family
from leakbench.estimators.fitted import FittedEstimators
from leakbench.io import write_bytes

METADATA_KEY = "leakbench"
FORMAT = "leakbench.sklearn_models/1"
_KEYS = {"format", "family", "params", "input_shape", "num_classes", "seeds"}


def save_estimators(path: str | os.PathLike[str], models: FittedEstimators) -> None:
    """Write ``models`` to ``path`` atomically; the same models always give the same bytes."""
    meta = {
        "format": FORMAT,
        "family": models.family,
        "params": models.params,
        "input_shape": list(models.input_shape),
        "num_classes": models.num_classes,
        "seeds": list(models.seeds),
    }
    header = json.dumps(meta, sort_keys=True, separators=(",", ":"), allow_nan=False)
    tensors = {
        f"{k:05d}/{name}": np.ascontiguousarray(value)
        for k, arrays in enumerate(models.arrays)
        for name, value in sorted(arrays.items())
    }
    write_bytes(path, save(tensors, metadata={METADATA_KEY: header}))


def _header(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        with safe_open(os.fspath(path), framework="np") as handle:
            meta = json.loads((handle.metadata() or {}).get(METADATA_KEY, "null"))
    except (OSError, ValueError, SafetensorError):
        return None
    return meta if isinstance(meta, dict) else None


def is_estimator_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a readable file written by :func:`save_estimators`."""
    meta = _header(path)
    return meta is not None and meta.get("format") == FORMAT


def load_estimators(path: str | os.PathLike[str]) -> FittedEstimators:
    """Read models written by :func:`save_estimators`.

    Raises:
        DataError: naming the file, if it is not such a file or its arrays are not the
            ones its family stores.
    """
    meta = _header(path)
    if meta is None or meta.get("format") != FORMAT or set(meta) != _KEYS:
        raise DataError(
            f"{path}: not a readable leakbench model file; allowed: {FORMAT} metadata with "
            f"keys {', '.join(sorted(_KEYS))}"
        )
    names = get_family(meta["family"]).arrays
    count = len(meta["seeds"])
    expected = {f"{k:05d}/{name}" for k in range(count) for name in names}
    with safe_open(os.fspath(path), framework="np") as handle:
        found = set(handle.keys())
        if found != expected:
            raise DataError(
                f"{path}: arrays {sorted(found)} do not match family {meta['family']!r} with "
                f"{count} models, which needs {sorted(expected)}"
            )
        arrays = tuple(
            {name: handle.get_tensor(f"{k:05d}/{name}") for name in names} for k in range(count)
        )
    return FittedEstimators(
        family=meta["family"],
        params=meta["params"],
        input_shape=tuple(meta["input_shape"]),
        num_classes=meta["num_classes"],
        seeds=tuple(meta["seeds"]),
        arrays=arrays,
    )
