"""Capacity-abuse encoding (Song et al. 2017, section 5): a black-box channel.

The malicious trainer adds synthetic inputs to the training data whose labels carry the
secret: each label holds ``k = floor(log2 C)`` secret bits (C classes). The inputs are
drawn from a seeded generator the adversary shares (the paper's key), so the adversary
regenerates them later, queries the released model on them only, and reads the bits off
the predicted labels. The secret pixels are first reduced to their ``pixel_bits`` most
significant bits (ours: the paper compresses the images it hides, section 5.2).
"""

from __future__ import annotations

import numpy as np

from leakbench.errors import ConfigError
from leakbench.malicious.secret import PIXEL_BITS, PIXEL_MAX


def bits_per_label(num_classes: int) -> int:
    """``k = floor(log2 C)``: the secret bits one label carries.

    Raises:
        ConfigError: for fewer than 2 classes (a label then carries nothing).
    """
    if num_classes < 2:
        raise ConfigError(
            f"num_classes: {num_classes} is not allowed; allowed: at least 2 (a label "
            "carries floor(log2 C) bits)"
        )
    return int(num_classes).bit_length() - 1


def synthetic_count(*, ratio: float, n_train: int) -> int:
    """Synthetic inputs added to ``n_train`` training records: ``floor(ratio * n_train)``."""
    return int(ratio * n_train)


def capacity_bits(*, count: int, num_classes: int) -> int:
    """Secret bits ``count`` synthetic labels hold: ``count * floor(log2 C)``."""
    return count * bits_per_label(num_classes)


def synthetic_inputs(*, count: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """float32 ``[count, *shape]``: black or white pixels (0 or 1, each with probability
    1/2) from ``seed`` (the shared key): the same inputs on every call.

    Ours: the paper draws its synthetic images pseudorandomly from the key; on MNIST 5k with
    an MLP-128 trained for 10 epochs, black-or-white pixels are memorised with about 5% of
    the label bits wrong where uniform grey levels leave about 16% (measured)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, size=(count, *shape)).astype(np.float32)


def reduce_pixels(pixels: np.ndarray, pixel_bits: int) -> np.ndarray:
    """uint8 ``[n, d]``: each pixel's ``pixel_bits`` most significant bits (``p >> (8 - b)``)."""
    return (np.asarray(pixels, dtype=np.uint8) >> (PIXEL_BITS - pixel_bits)).astype(np.uint8)


def expand_pixels(reduced: np.ndarray, pixel_bits: int) -> np.ndarray:
    """uint8 grey levels of reduced pixels: ``round(q * 255 / (2^b - 1))`` (0 -> 0, the
    largest value -> 255)."""
    top = (1 << pixel_bits) - 1
    return np.rint(np.asarray(reduced, dtype=np.float64) * PIXEL_MAX / top).astype(np.uint8)


def pixel_bits_of(reduced: np.ndarray, pixel_bits: int) -> np.ndarray:
    """uint8 bits ``[n * d * b]`` of reduced pixels, most significant first."""
    flat = np.asarray(reduced, dtype=np.uint8).reshape(-1, 1)
    shifts = np.arange(pixel_bits - 1, -1, -1, dtype=np.uint8)
    return ((flat >> shifts) & 1).astype(np.uint8).reshape(-1)


def pixels_of_bits(bits: np.ndarray, pixel_bits: int, shape: tuple[int, int]) -> np.ndarray:
    """The inverse of :func:`pixel_bits_of`: reduced pixels of ``shape`` from their bits."""
    weights = 1 << np.arange(pixel_bits - 1, -1, -1, dtype=np.int64)
    groups = np.asarray(bits, dtype=np.int64).reshape(-1, pixel_bits)
    return (groups @ weights).astype(np.uint8).reshape(shape)


def labels_of_bits(bits: np.ndarray, num_classes: int, count: int) -> np.ndarray:
    """int64 ``[count]``: consecutive groups of k secret bits (MSB first) as labels; the
    last group is padded with zero bits and labels past the secret are 0.

    Raises:
        ConfigError: if the secret needs more than ``count`` labels.
    """
    k = bits_per_label(num_classes)
    if len(bits) > count * k:
        raise ConfigError(
            f"secret: {len(bits)} bits is not allowed; allowed: at most {count * k} "
            f"({count} synthetic labels x {k} bits)"
        )
    padded = np.zeros(count * k, dtype=np.int64)
    padded[: len(bits)] = bits
    return padded.reshape(count, k) @ (1 << np.arange(k - 1, -1, -1, dtype=np.int64))


def bits_of_labels(labels: np.ndarray, num_classes: int, n_bits: int) -> np.ndarray:
    """uint8 ``[n_bits]``: the secret read off predicted labels, k bits each (MSB
    first); a label the encoder never uses (``>= 2^k``) reads as its k low bits."""
    k = bits_per_label(num_classes)
    values = np.asarray(labels, dtype=np.int64).reshape(-1, 1)
    shifts = np.arange(k - 1, -1, -1, dtype=np.int64)
    return ((values >> shifts) & 1).astype(np.uint8).reshape(-1)[:n_bits]
