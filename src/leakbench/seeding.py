"""Seeds derived from the config seed and an artifact's wildcards, never from the clock."""

from __future__ import annotations

import hashlib
import os


def derive_seed(base: int, *parts: object) -> int:
    """Return a seed in [0, 2**31) from ``base`` and the parts naming one artifact.

    The seed is the first 8 bytes of sha256("base/part1/part2/...") modulo 2**31, so it
    depends only on the values, not on process order, hash randomisation or the clock.
    """
    text = "/".join(str(p) for p in (base, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % (2**31)


THREADS_ENV = "LEAKBENCH_THREADS"


def job_threads() -> int:
    """The torch thread count of a job: ``$LEAKBENCH_THREADS``, else 1."""
    return int(os.environ.get(THREADS_ENV, "1"))


def configure_torch(threads: int | None = None) -> None:
    """Make torch deterministic: deterministic algorithms and a fixed thread count.

    ``threads`` defaults to the ``LEAKBENCH_THREADS`` environment variable, else 1 (one
    thread per job beats sharing cores between parallel jobs on small CPUs, and results
    are bit-identical only for the same thread count).
    """
    # Imported here: the modules that only derive seeds must not pay torch's import.
    import torch

    torch.use_deterministic_algorithms(True)
    n = threads if threads is not None else job_threads()
    torch.set_num_threads(n)
