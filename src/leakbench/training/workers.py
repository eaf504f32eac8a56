"""Single-thread workers: a job's T threads as T trainers side by side, not one trainer
whose every operation is split over T threads.

The models of a job are independent, so its K models split into T contiguous groups, each
trained by one worker (a thread of this process) with torch at one intra-op thread. Two
1-thread workers beat one 2-thread trainer on the Purchase-shaped MLP: every small
operation (activations, the optimiser step) runs without a barrier between threads, and
on a loaded machine a 2-thread operation waits for whichever thread the scheduler delays
(``benchmarks/purchase_peak.py`` measures both).

The groups depend only on K and T, and each worker's computation on the thread count
(one), so results are the same bytes on every run with the same thread count.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import TypeVar

import torch

from leakbench.errors import ConfigError

T = TypeVar("T")


def worker_count(workers: int | None, models: int, device: torch.device) -> int:
    """The number of workers for ``models`` models: ``workers``, or the job's torch
    thread count when None; at most ``models``, and 1 off the CPU.

    Raises:
        ConfigError: if ``workers`` is not None or an integer >= 1.
    """
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or workers < 1
    ):
        raise ConfigError(f"workers: {workers!r} is not allowed; allowed: None or an integer >= 1")
    if device.type != "cpu":
        return 1
    wanted = torch.get_num_threads() if workers is None else workers
    return max(1, min(wanted, models))


def groups(models: int, workers: int) -> list[slice]:
    """``models`` models as ``workers`` contiguous groups, the first ones a model larger
    when they do not divide evenly: 5 models, 2 workers -> ``[0:3], [3:5]``."""
    size, extra = divmod(models, workers)
    bounds = [0]
    for w in range(workers):
        bounds.append(bounds[-1] + size + (1 if w < extra else 0))
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def run_groups(models: int, workers: int, train: Callable[[slice], T]) -> list[T]:
    """``train(group)`` for each of :func:`groups`, in their order: in the calling thread
    for one worker, else one single-thread worker per group at once (torch's thread count
    restored after). A worker's error reaches the caller after every worker has ended
    (the first group's first)."""
    parts = groups(models, workers)
    if len(parts) == 1:
        return [train(parts[0])]
    results: list[T | None] = [None] * len(parts)
    errors: list[BaseException | None] = [None] * len(parts)

    def work(index: int) -> None:
        try:
            results[index] = train(parts[index])
        except BaseException as error:  # handed to the caller below
            errors[index] = error

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pool = [
            threading.Thread(target=work, args=(i,), name=f"leakbench-worker-{i}")
            for i in range(len(parts))
        ]
        for worker in pool:
            worker.start()
        for worker in pool:
            worker.join()
    finally:
        torch.set_num_threads(threads)
    for error in errors:  # the first group's error first
        if error is not None:
            raise error
    return results  # type: ignore[return-value]
