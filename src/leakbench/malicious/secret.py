"""The secret a malicious trainer hides: training records quantised to 8-bit pixels.

Song et al. 2017 (section 4) encode the training images' raw pixels, one byte per grey
level. Records in ``[0, 1]`` become ``round(255 x)`` (exact for MNIST, whose pool is the raw
bytes divided by 255); a record of any shape is flattened.
"""

from __future__ import annotations

import numpy as np

PIXEL_BITS = 8
PIXEL_MAX = 255


def quantise(records: np.ndarray) -> np.ndarray:
    """uint8 ``[n, d]``: ``round(255 x)`` of each record's values in ``[0, 1]``, flattened."""
    flat = np.asarray(records, dtype=np.float64).reshape(len(records), -1)
    return np.rint(np.clip(flat, 0.0, 1.0) * PIXEL_MAX).astype(np.uint8)


def to_bits(pixels: np.ndarray) -> np.ndarray:
    """uint8 bits ``[n * d * 8]`` of the pixels, most significant bit of each pixel first."""
    return np.unpackbits(np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1))


def from_bits(bits: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The inverse of :func:`to_bits`: uint8 pixels of ``shape`` from its bits."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).reshape(shape)
