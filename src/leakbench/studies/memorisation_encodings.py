"""What each encoding of Song et al. 2017 holds and how it is named, and the study's
checks of its config before any job runs (:mod:`leakbench.studies.memorisation` trains
and decodes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from leakbench.data.spec import DatasetSpec
from leakbench.errors import ConfigError
from leakbench.malicious import capacity as cap
from leakbench.malicious import lsb, secret
from leakbench.models import build_model


@dataclass(frozen=True)
class Sizes:
    """What an encoding's capacity depends on: parameters per model, pixels per image,
    training records and classes."""

    n_params: int
    pixels: int
    n_train: int
    num_classes: int


def capacity(*, encoding: Mapping[str, Any], sizes: Sizes) -> int:
    """Whole images an encoding can hold: ``P * b / (8 d)`` for LSB with b bits of P
    parameters, ``P / d`` for correlated values (one parameter per pixel), ``P / (8 d)``
    for signs (one bit per parameter), ``floor(r n) floor(log2 C) / (p d)`` for capacity
    abuse (r synthetic inputs per training record, p bits per pixel); d pixels per image."""
    name = encoding["encoding"]
    if name == "capacity":
        count = cap.synthetic_count(ratio=encoding["ratio"], n_train=sizes.n_train)
        bits = cap.capacity_bits(count=count, num_classes=sizes.num_classes)
        return bits // (sizes.pixels * encoding["pixel_bits"])
    per_param = {"correlation": secret.PIXEL_BITS, "sign": 1}
    bits = encoding["bits"] if name == "lsb" else per_param[name]
    return sizes.n_params * bits // (sizes.pixels * secret.PIXEL_BITS)


def secret_images(*, encoding: Mapping[str, Any], sizes: Sizes) -> int:
    """The images an encoding hides: its ``images``, or all its capacity allows (at
    most the training records)."""
    fit = min(capacity(encoding=encoding, sizes=sizes), sizes.n_train)
    return fit if encoding.get("images") is None else int(encoding["images"])


_PARAMETER = {"lsb": "bits", "correlation": "lambda", "sign": "lambda", "capacity": "ratio"}


def parameter(encoding: Mapping[str, Any]) -> float:
    """An encoding's parameter: b for lsb, lambda for correlation and sign, the
    synthetic-data ratio for capacity."""
    return encoding[_PARAMETER[encoding["encoding"]]]


def encoding_label(encoding: Mapping[str, Any]) -> str:
    """``lsb-b20``, ``correlation-l3``, ``capacity-r1-p4`` ...: the encoding and its
    parameters."""
    name = encoding["encoding"]
    if name == "lsb":
        return f"lsb-b{encoding['bits']}"
    if name == "capacity":
        return f"capacity-r{encoding['ratio']:g}-p{encoding['pixel_bits']}"
    return f"{name}-l{encoding['lambda']:g}"


def check_study(*, study: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]) -> None:
    """Refuse, before any job, what the schema cannot express: b outside 1 .. 23, a
    negative lambda (also the schema's bounds; checked here for callers without it), an
    encoding listed twice, and a secret larger than the encoding's capacity or than the
    training records.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    labels: list[str] = []
    for j, encoding in enumerate(study["encodings"]):
        key = f"memorisation.encodings.{j}"
        if encoding["encoding"] == "lsb":
            lsb.check_bits(f"{key}.bits", encoding["bits"])
        elif encoding["encoding"] != "capacity" and encoding["lambda"] < 0:
            raise ConfigError(
                f"{key}.lambda: {encoding['lambda']!r} is not allowed; allowed: a number >= 0"
            )
        labels.append(encoding_label(encoding))
        if labels.count(labels[-1]) > 1:
            raise ConfigError(
                f"{key}: {labels[-1]} is not allowed; allowed: each encoding and parameter once"
            )
    for i, row in enumerate(study["grid"]):
        spec = datasets[row["dataset"]]
        sizes = Sizes(
            n_params=sum(
                p.numel()
                for p in build_model(
                    row["arch"],
                    input_shape=spec.input_shape,
                    num_classes=spec.num_classes,
                    **row.get("arch_params", {}),
                ).parameters()
            ),
            pixels=int(np.prod(spec.input_shape)),
            n_train=int(row["records"] * row["train_fraction"]),
            num_classes=spec.num_classes,
        )
        for j, encoding in enumerate(study["encodings"]):
            _check_fit(encoding=encoding, sizes=sizes, where=(i, j))


def _check_fit(*, encoding: Mapping[str, Any], sizes: Sizes, where: tuple[int, int]) -> None:
    """Refuse ``images`` beyond an encoding's capacity (or the training records), or an
    encoding that holds no whole image, in grid row ``where[0]``."""
    i, j = where
    fit = capacity(encoding=encoding, sizes=sizes)
    images = encoding.get("images")
    room = (
        f"{encoding_label(encoding)} holds {fit} images of {sizes.pixels} pixels"
        + (
            f" in {cap.synthetic_count(ratio=encoding['ratio'], n_train=sizes.n_train)} "
            f"synthetic labels of {cap.bits_per_label(sizes.num_classes)} bits"
            if encoding["encoding"] == "capacity"
            else f" in the {sizes.n_params} parameters"
        )
        + f" of memorisation.grid.{i}, which trains on {sizes.n_train} records"
    )
    if images is not None and images > min(fit, sizes.n_train):
        raise ConfigError(
            f"memorisation.encodings.{j}.images: {images} is not allowed; allowed: "
            f"at most {min(fit, sizes.n_train)} ({room})"
        )
    if images is None and fit < 1:
        raise ConfigError(
            f"memorisation.encodings.{j}: {encoding_label(encoding)} is not allowed "
            f"with memorisation.grid.{i}; allowed: an encoding whose capacity holds "
            f"one image ({room})"
        )
