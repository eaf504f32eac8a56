"""LSB encoding (Song et al. 2017, section 4.1) and its countermeasure (section 7).

After benign training, the b lowest bits of every float32 parameter's IEEE-754 word (the
low mantissa bits for b <= 23) are overwritten with the secret's bits, in parameter order
and from the most significant of the b bits down; decoding reads them back bit for bit.
The countermeasure overwrites the same bits with random ones.
"""

from __future__ import annotations

import numpy as np

from leakbench.errors import ConfigError

MAX_BITS = 23  # the float32 mantissa: more would change the sign or the exponent


def check_bits(key: str, bits: int) -> None:
    """Raise ConfigError unless ``1 <= bits <= 23``."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_BITS:
        raise ConfigError(f"{key}: {bits!r} is not allowed; allowed: an integer in 1 .. {MAX_BITS}")


def to_words(params: np.ndarray) -> np.ndarray:
    """The uint32 bit patterns of float32 parameters (a copy)."""
    return np.ascontiguousarray(params, dtype=np.float32).view(np.uint32).copy()


def from_words(words: np.ndarray) -> np.ndarray:
    """float32 parameters from their uint32 bit patterns (a copy): the inverse of
    :func:`to_words`."""
    return np.ascontiguousarray(words, dtype=np.uint32).view(np.float32).copy()


def capacity(n_params: int, bits: int) -> int:
    """Secret bits that b low bits of ``n_params`` parameters hold: ``n_params * b``."""
    return n_params * bits


def _chunks(values: np.ndarray, bits: int) -> np.ndarray:
    """uint32 ``[ceil(len/b)]``: consecutive groups of b bits as integers (MSB first),
    the last group padded with zero bits."""
    padded = np.zeros(-(-len(values) // bits) * bits, dtype=np.uint32)
    padded[: len(values)] = values
    weights = np.uint32(1) << np.arange(bits - 1, -1, -1, dtype=np.uint32)
    return (padded.reshape(-1, bits) * weights).sum(axis=1, dtype=np.uint64).astype(np.uint32)


def encode(params: np.ndarray, secret_bits: np.ndarray, bits: int) -> np.ndarray:
    """float32 parameters whose b low bits hold ``secret_bits`` (0/1), parameter by
    parameter from the first; parameters beyond the secret keep their own bits.

    Raises:
        ConfigError: for b outside 1 .. 23 or a secret longer than the capacity.
    """
    check_bits("bits", bits)
    if len(secret_bits) > capacity(len(params), bits):
        raise ConfigError(
            f"secret: {len(secret_bits)} bits is not allowed; allowed: at most "
            f"{capacity(len(params), bits)} ({len(params)} parameters x {bits} bits)"
        )
    words = to_words(params)
    low = _chunks(np.asarray(secret_bits, dtype=np.uint32), bits)
    mask = np.uint32((1 << bits) - 1)
    words[: len(low)] = (words[: len(low)] & ~mask) | low
    return from_words(words)


def decode(params: np.ndarray, bits: int, count: int) -> np.ndarray:
    """uint8 ``[count]``: the first ``count`` secret bits read from the b low bits."""
    check_bits("bits", bits)
    words = to_words(params)[: -(-count // bits)]
    low = words & np.uint32((1 << bits) - 1)
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint32)
    return ((low[:, None] >> shifts) & np.uint32(1)).astype(np.uint8).reshape(-1)[:count]


def randomise(params: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """The countermeasure (section 7): the b low bits of every parameter replaced by
    uniform random bits from ``rng``."""
    check_bits("bits", bits)
    words = to_words(params)
    mask = np.uint32((1 << bits) - 1)
    noise = rng.integers(0, 1 << bits, size=len(words), dtype=np.uint32)
    return from_words((words & ~mask) | noise)
