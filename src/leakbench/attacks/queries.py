"""Query augmentations: the inputs each record is presented to a model as.

Carlini et al. 2022, "Membership Inference Attacks From First Principles" (IEEE S&P),
section VI-A ("augmentations"): querying each record on the augmentations the models were
trained with and averaging the per-query scores makes the attack stronger. The LiRA
reference code (tensorflow/privacy, research/mi_lira_2021, inference.py) queries the
plain image and its horizontal mirror, each on a grid of reflect-padded shifts.

Here the query set is the Cartesian product of the flips and the shifts the names select,
in a fixed order: flips outermost (plain, then mirrored), then the offsets (dy, dx)
row-major in increasing order, (0, 0) included. ``["plain"]`` is one query; ``["plain",
"flip"]`` two; ``["plain", "flip", "shift"]`` 2 x 9 = 18 with shifts of up to
:data:`SHIFT_PIXELS` pixels along each axis (the reference code's 18 queries).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from leakbench.errors import ConfigError, UnknownNameError

SHIFT_PIXELS = 1
"""s of the "shift" query: offsets (dy, dx) in {-s, 0, s}^2 (reflect padding)."""

QUERIES: dict[str, str] = {
    "plain": "the record itself (always the first query)",
    "flip": "adds the horizontal mirror of every query",
    "shift": f"adds the reflect-padded shifts by (dy, dx) in {{-s, 0, s}}^2, s = {SHIFT_PIXELS}",
}


def check_queries(*, queries: Sequence[str], image: bool) -> None:
    """Refuse a query list that is not allowed.

    Args:
        queries: names of :data:`QUERIES`, "plain" first, no repeats.
        image: whether the records are images ``[C, H, W]``; other data allow only "plain".

    Raises:
        UnknownNameError: for a name not in :data:`QUERIES` (key ``queries``).
        ConfigError: if "plain" is not first, a name repeats, or a non-image dataset asks
            for anything but "plain".
    """
    names = list(queries)
    for name in names:
        if name not in QUERIES:
            raise UnknownNameError("queries", name, QUERIES)
    if not names or names[0] != "plain" or len(set(names)) != len(names):
        raise ConfigError(
            f"queries: {names!r} is not allowed; allowed: 'plain' first, then any of "
            "'flip', 'shift', each at most once"
        )
    if not image and names != ["plain"]:
        raise ConfigError(
            f"queries: {names!r} is not allowed for non-image data; allowed: ['plain']"
        )


def query_count(queries: Sequence[str]) -> int:
    """Q, the number of inputs per record the names select (see the module docstring)."""
    flips = 2 if "flip" in queries else 1
    shifts = 9 if "shift" in queries else 1
    return flips * shifts


def _offsets(queries: Sequence[str]) -> list[tuple[int, int]]:
    steps = (-SHIFT_PIXELS, 0, SHIFT_PIXELS) if "shift" in queries else (0,)
    return [(dy, dx) for dy in steps for dx in steps]


def query_inputs(*, x: np.ndarray, queries: Sequence[str]) -> np.ndarray:
    """Every record's queries, deterministically.

    A shift by (dy, dx) moves the content by that many pixels: output pixel (i, j) is the
    input pixel (i - dy, j - dx) of the image reflect-padded by s (numpy ``mode="reflect"``,
    the edge pixel not repeated, as TensorFlow's ``REFLECT``).

    Args:
        x: [n, C, H, W] images, or [n, d] (or any [n, ...] other than 4-d) non-image records.
        queries: as :func:`check_queries` allows.

    Returns:
        [n, Q, *x.shape[1:]] of ``x``'s dtype, the queries in the module docstring's order
        (query 0 is ``x`` itself).

    Raises:
        ConfigError: as :func:`check_queries`.
    """
    array = np.asarray(x)
    image = array.ndim == 4
    check_queries(queries=queries, image=image)
    if not image:
        return array[:, None].copy()
    flips = [array, array[..., ::-1]] if "flip" in queries else [array]
    height, width = array.shape[2:]
    s = SHIFT_PIXELS if "shift" in queries else 0
    out = []
    for image_set in flips:
        padded = np.pad(image_set, ((0, 0), (0, 0), (s, s), (s, s)), mode="reflect")
        for dy, dx in _offsets(queries):
            out.append(padded[:, :, s - dy : s - dy + height, s - dx : s - dx + width])
    return np.ascontiguousarray(np.stack(out, axis=1))
