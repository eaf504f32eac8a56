"""Decoding the value and sign encodings (Song et al. 2017, sections 4.2 and 4.3)."""

from __future__ import annotations

import numpy as np

from leakbench.malicious.secret import PIXEL_MAX


def signs_to_bits(theta: np.ndarray) -> np.ndarray:
    """Sign encoding's decoder: bit 1 where a parameter is positive, uint8 ``[l]``."""
    return (np.asarray(theta) > 0).astype(np.uint8)


def flipped_fraction(decoded: np.ndarray, secret_bits: np.ndarray) -> float:
    """Fraction of secret bits whose sign the training did not keep."""
    return float(np.mean(decoded != secret_bits))


def values_to_pixels(theta: np.ndarray, pixels: int, *, invert: bool) -> np.ndarray:
    """Correlated value encoding's decoder: uint8 ``[n, pixels]`` from the first
    ``n * pixels`` parameters, each image's parameters mapped linearly onto ``[0, 255]``
    (``255 (theta - min) / (max - min)`` per image), or the inverse image
    (``255 - that``) when ``invert``: the parameters correlate with the secret up to sign,
    and the paper takes the image or its inverse (section 4.2)."""
    values = np.asarray(theta, dtype=np.float64).reshape(-1, pixels)
    low = values.min(axis=1, keepdims=True)
    span = values.max(axis=1, keepdims=True) - low
    scaled = np.divide(values - low, span, out=np.zeros_like(values), where=span > 0)
    if invert:
        scaled = 1.0 - scaled
    return np.rint(scaled * PIXEL_MAX).astype(np.uint8)
