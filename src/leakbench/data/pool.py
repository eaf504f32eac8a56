"""The prepared data pool of one dataset: features, labels and boolean record properties.

Every study draws its splits from a pool. A pool is saved as one byte-deterministic ``.npz``
(:func:`leakbench.io.write_npz`) with the entries ``x``, ``y``, ``num_classes`` (int64
``[1]``), ``feature_names`` (a unicode array) and one ``prop__<name>`` entry per property.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from leakbench.errors import DataError
from leakbench.io import read_npz, write_npz

_PROPERTY_PREFIX = "prop__"
_PROPERTY_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Pool:
    """A prepared dataset.

    Attributes:
        x: float32 ``[N, *input_shape]``; tabular ``[N, D]``, images ``[N, 1, 28, 28]`` in [0, 1].
        y: int64 ``[N]`` class labels in ``[0, num_classes)``.
        properties: name -> bool ``[N]``, the record properties that property- and
            attribute-inference studies target (e.g. Adult's ``sex``); may be empty.
        feature_names: one name per column of a tabular ``x``; empty for images.
        num_classes: number of classes of the task.

    Raises:
        DataError: on construction, if a dtype or shape disagrees with the above.
    """

    x: np.ndarray
    y: np.ndarray
    properties: dict[str, np.ndarray]
    feature_names: tuple[str, ...]
    num_classes: int

    def __post_init__(self) -> None:
        _check(self.x.dtype == np.float32, "x", f"dtype {self.x.dtype}", "float32")
        _check(self.x.ndim >= 2, "x", f"shape {self.x.shape}", "[N, *input_shape]")
        n = self.x.shape[0]
        _check(self.y.dtype == np.int64, "y", f"dtype {self.y.dtype}", "int64")
        _check(self.y.shape == (n,), "y", f"shape {self.y.shape}", f"({n},), one label per row")
        _check(
            isinstance(self.num_classes, int) and self.num_classes >= 2,
            "num_classes",
            repr(self.num_classes),
            "an integer >= 2",
        )
        if n:
            low, high = int(self.y.min()), int(self.y.max())
            _check(
                low >= 0 and high < self.num_classes,
                "y",
                f"labels in [{low}, {high}]",
                f"labels in [0, {self.num_classes - 1}]",
            )
        for name, values in self.properties.items():
            key = f"properties[{name!r}]"
            _check(bool(_PROPERTY_NAME.match(name)), "properties", repr(name), "[A-Za-z0-9_]+")
            _check(values.dtype == np.bool_, key, f"dtype {values.dtype}", "bool")
            _check(values.shape == (n,), key, f"shape {values.shape}", f"({n},)")
        if self.x.ndim == 2:
            expected = f"{self.x.shape[1]} names, one per column of x"
        else:
            expected = "no names for non-tabular x"
        width = self.x.shape[1] if self.x.ndim == 2 else 0
        _check(
            len(self.feature_names) == width,
            "feature_names",
            f"{len(self.feature_names)} names",
            expected,
        )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one record, ``x.shape[1:]``."""
        return tuple(self.x.shape[1:])

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the pool to ``path`` atomically (see the module docstring for the layout)."""
        arrays = {
            "x": self.x,
            "y": self.y,
            "num_classes": np.array([self.num_classes], dtype=np.int64),
            "feature_names": np.asarray(self.feature_names, dtype=np.str_).reshape(-1),
        }
        for name, values in self.properties.items():
            arrays[_PROPERTY_PREFIX + name] = values
        write_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Pool:
        """Read a pool written by :meth:`save`.

        Raises:
            DataError: if an entry is missing or the arrays fail the checks of :class:`Pool`.
        """
        arrays = read_npz(path)
        missing = sorted({"x", "y", "num_classes", "feature_names"} - set(arrays))
        if missing:
            raise DataError(f"{path}: not a pool file; missing entries: {', '.join(missing)}")
        properties = {
            key.removeprefix(_PROPERTY_PREFIX): value
            for key, value in sorted(arrays.items())
            if key.startswith(_PROPERTY_PREFIX)
        }
        return cls(
            x=arrays["x"],
            y=arrays["y"],
            properties=properties,
            feature_names=tuple(str(s) for s in arrays["feature_names"]),
            num_classes=int(arrays["num_classes"].reshape(-1)[0]),
        )


def _check(ok: bool, key: str, value: str, allowed: str) -> None:
    if not ok:
        raise DataError(f"Pool.{key}: {value} is not allowed; allowed: {allowed}")


def image_pool(*, images: np.ndarray, labels: np.ndarray, num_classes: int) -> Pool:
    """Pool of uint8 images, grey ``[N, H, W]`` or channels-first ``[N, C, H, W]``:
    float32 ``[N, C, H, W]`` (C = 1 for grey) = value / 255.

    Raises:
        DataError: if ``images`` is not uint8 ``[N, H, W]`` or ``[N, C, H, W]``.
    """
    _check(images.dtype == np.uint8, "x", f"image dtype {images.dtype}", "uint8 images")
    _check(
        images.ndim in (3, 4), "x", f"image array shape {images.shape}", "[N, H, W] or [N, C, H, W]"
    )
    scale = np.float32(np.iinfo(np.uint8).max)
    scaled = images.astype(np.float32) / scale
    return Pool(
        x=scaled[:, None, :, :] if images.ndim == 3 else scaled,
        y=labels.astype(np.int64),
        properties={},
        feature_names=(),
        num_classes=num_classes,
    )
