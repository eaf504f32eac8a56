"""Train K models of one architecture at once, as one stacked computation.

Model k trains only on the pool rows where ``keep[k]`` is true (a membership mask like
the ``keep`` array of Carlini et al. 2022's LiRA code; the models' counts may differ),
from its own seed: the seed fixes its
initialisation (:func:`~leakbench.training.ensemble.seeded_model`) and its batch order (a
``torch.Generator`` seeded with it draws each epoch's permutation, and any dropout masks).
Every parameter carries a leading model axis; an engine (:mod:`~.engine`) runs the K
passes at once: :class:`~leakbench.training.stacked_net.StackedNet`'s batched matmuls and
grouped convolutions when every layer has a fast-path handler, else ``torch.func``
(:class:`~leakbench.training.functional.FuncNet`).

The loss is the sum over models of each model's mean cross-entropy on its batch,
``L = sum_k (1/B) sum_i CE(f_k(x_ki), y_ki)``; model k's parameters enter only its own
term, so its gradient is exactly the one it would get alone. Adam and SGD update every
element on its own, so one optimiser over the stacked tensors takes the same steps as K
independent optimisers, and the result equals :func:`~.sequential.train_sequential` up to
floating-point rounding (batched and single matmuls sum in different orders).

With ``config.privacy`` set, the same loop (:mod:`~leakbench.training.loop`) runs DP-SGD
instead (:mod:`~leakbench.training.private`): Poisson batches, per-sample clipping in the
engine, per-model Gaussian noise, and the noise calibration recorded with the models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from leakbench.errors import ConfigError
from leakbench.models import get_architecture
from leakbench.privacy import calibrate
from leakbench.training.augment import Augmenter, check_image_inputs
from leakbench.training.batches import batch_bounds, member_rows, padded_rows
from leakbench.training.config import TrainConfig
from leakbench.training.device import resolve_device
from leakbench.training.engine import make_engine
from leakbench.training.ensemble import INPUT_DTYPES, StackedModels, seeded_model
from leakbench.training.hooks import Hooks, with_callback
from leakbench.training.loop import train_loop
from leakbench.training.optim import make_optimizer, make_schedule, model_rates
from leakbench.training.private import PrivateStep
from leakbench.training.progress import TrainingProgress
from leakbench.training.samplers import EpochSampler, PoissonSampler, RaggedEpochSampler
from leakbench.training.workers import run_groups, worker_count


@dataclass(frozen=True)
class TrainedStack:
    """What :func:`train_modules` returns.

    Attributes:
        params: ``{name: [K, *shape]}`` on the CPU, the single module's names and shapes.
        privacy: the DP noise calibration (:meth:`leakbench.privacy.Calibration.as_dict`),
            or None without DP.
    """

    params: dict[str, torch.Tensor]
    privacy: dict[str, Any] | None


def train_stacked(
    *,
    arch: str,
    arch_params: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    keep: np.ndarray,
    seeds: Sequence[int],
    config: TrainConfig,
    engine: str = "auto",
    hooks: Hooks | None = None,
    absent: np.ndarray | None = None,
    workers: int | None = None,
) -> StackedModels:
    """Train one model per row of ``keep``, all K in one stacked computation.

    Args:
        arch: architecture name (:data:`leakbench.models.ARCHITECTURES`).
        arch_params: its parameters, e.g. ``{"hidden": [64, 64]}``.
        x: the pool's inputs ``[N, *input_shape]``: float32, or int64 token ids for an
            architecture that takes tokens (``Architecture.inputs``).
        y: the pool's labels, int ``[N]`` in ``[0, num_classes)``.
        num_classes: number of classes.
        keep: bool ``[K, N]``; model k trains on ``x[keep[k]]``. Rows may hold different
            numbers of records (each model then takes exactly its own steps,
            :class:`~leakbench.training.samplers.RaggedEpochSampler`), except with DP-SGD.
        seeds: one seed per model.
        config: epochs, batch size, optimiser.
        engine: ``"auto"`` (the fast path when every layer has a handler), ``"fast"`` or
            ``"func"`` (:func:`~leakbench.training.engine.make_engine`).
        hooks: gradient transform, parameter loss and callback, or None.
        absent: bool ``[K, N]`` within ``keep``, or None: with DP-SGD, the records model k
            holds but never samples (:func:`~leakbench.training.private.poisson_batches`):
            the add/remove neighbour without them under the calibration of its full row
            (a black-box audit's models without the canary).
        workers: single-thread workers, each training a contiguous group of the models
            (:mod:`~leakbench.training.workers`); None for the job's torch thread count.
            One worker (as always with ``hooks``, which may couple the models, or off
            the CPU) trains the whole stack with torch's intra-op threads.

    Returns:
        The K trained models (parameters on the CPU).

    Raises:
        UnknownNameError: for an unknown architecture.
        ConfigError: for bad architecture parameters, a model without records, unequal
            member counts with DP-SGD, a seed count
            that differs from K, labels outside ``[0, num_classes)``, a bad engine, or
            ``absent`` without DP-SGD or outside ``keep``, or ``workers`` not None or
            an integer >= 1.
    """
    input_shape = tuple(np.shape(x)[1:])
    inputs = get_architecture(arch).inputs
    build = functools.partial(
        seeded_model,
        arch=arch,
        arch_params=arch_params,
        input_shape=input_shape,
        num_classes=num_classes,
    )
    keep = np.asarray(keep)
    count = len(keep)
    split = hooks is None and keep.ndim == 2 and len(seeds) == count
    if absent is not None and np.shape(absent) != keep.shape:
        split = False  # one stack, whose checks name the bad argument
    chosen = worker_count(workers, count, resolve_device())

    def train_group(part: slice) -> TrainedStack:
        return train_modules(
            build=lambda seed: build(seed=seed),
            x=x,
            y=y,
            num_classes=num_classes,
            keep=keep[part],
            seeds=list(seeds)[part],
            config=config,
            engine=engine,
            hooks=hooks,
            inputs=inputs,
            absent=None if absent is None else np.asarray(absent)[part],
        )

    parts = run_groups(count, chosen if split else 1, train_group)
    trained = parts[0]
    if len(parts) > 1:
        trained = TrainedStack(
            params={name: torch.cat([p.params[name] for p in parts]) for name in trained.params},
            privacy=trained.privacy,  # the same calibration in every group
        )
    return StackedModels(
        arch=arch,
        arch_params=dict(arch_params),
        input_shape=input_shape,
        num_classes=num_classes,
        seeds=tuple(int(s) for s in seeds),
        params=trained.params,
        privacy=trained.privacy,
    )


def train_modules(
    *,
    build: Callable[[int], nn.Module],
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    keep: np.ndarray,
    seeds: Sequence[int],
    config: TrainConfig,
    engine: str = "auto",
    hooks: Hooks | None = None,
    inputs: str = "float",
    absent: np.ndarray | None = None,
) -> TrainedStack:
    """Train K models of any ``nn.Module`` architecture; :func:`train_stacked` for a
    module that ``build(seed)`` returns freshly initialised from ``seed``.

    ``inputs`` is ``"float"`` (``x`` as float32) or ``"tokens"`` (``x`` as int64 token
    ids, for models that start with an embedding).

    Raises:
        ConfigError: as :func:`train_stacked`, and for an unknown ``inputs``.
    """
    if inputs not in INPUT_DTYPES:
        raise ConfigError(f"inputs: {inputs!r} is not allowed; allowed: {', '.join(INPUT_DTYPES)}")
    rows, counts = padded_rows(
        member_rows(x=x, y=y, num_classes=num_classes, keep=keep, seeds=seeds)
    )
    equal = min(counts) == max(counts)
    if config.privacy is not None and not equal:
        raise ConfigError(
            f"keep: member counts {sorted(set(counts))} with privacy are not allowed; "
            "allowed: the same number of records for every model (DP-SGD's accountant "
            "calibrates one sampling rate)"
        )
    check_image_inputs(augment=config.augment, input_shape=np.shape(x)[1:], key="augment")
    seeds = tuple(int(s) for s in seeds)
    count, n = rows.shape
    device = resolve_device()
    template = build(seeds[0])
    stack = make_engine(template=template, count=count, engine=engine)
    flat = torch.empty(stack.size)
    views = stack.unpack(flat)
    for k, seed in enumerate(seeds):  # slot k starts as model k would alone
        model = template if k == 0 else build(seed)
        for name, param in model.named_parameters():
            views[name][k].copy_(param.detach())
    flat = flat.to(device)
    flat.grad = torch.empty_like(flat)  # the engine overwrites every element each step
    calibration, private = None, None
    steps_per_epoch = len(batch_bounds(n, config.batch_size))  # the longest model's
    steps = config.epochs * steps_per_epoch
    ragged = None if equal else RaggedEpochSampler(config.epochs, config.batch_size, counts)
    sampler: EpochSampler | RaggedEpochSampler | PoissonSampler = ragged or EpochSampler(
        config.epochs, config.batch_size
    )
    if config.privacy is not None:
        calibration = calibrate(
            config.privacy, records=n, batch_size=config.batch_size, epochs=config.epochs
        )
        private = PrivateStep.from_calibration(calibration, n)
        steps = calibration.steps
        sampler = PoissonSampler(
            rate=calibration.sample_rate,
            steps=calibration.steps,
            steps_per_round=steps_per_epoch,
            present=None if absent is None else _present(absent=absent, keep=keep, rows=rows),
        )
    elif absent is not None:
        raise ConfigError(
            "absent: records held absent without privacy are not allowed; "
            "allowed: None, or a mask with DP-SGD (Poisson sampling)"
        )
    x_t = torch.as_tensor(np.asarray(x, dtype=INPUT_DTYPES[inputs])).to(device)
    y_t = torch.as_tensor(np.asarray(y, dtype=np.int64)).to(device)
    progress = TrainingProgress(
        engine=stack, flat=flat, x=x_t, y=y_t, rows=rows, rounds=config.epochs, steps=steps
    )
    optimizer = make_optimizer([flat], config)
    train_loop(
        engine=stack,
        flat=flat,
        optimizer=optimizer,
        x=x_t,
        y=y_t,
        rows=rows,
        generators=[torch.Generator().manual_seed(seed) for seed in seeds],
        sampler=sampler,
        hooks=with_callback(hooks or Hooks(), progress),
        private=private,
        # One schedule when every model takes the same steps; else each model its own.
        schedule=make_schedule(optimizer, config, steps=steps) if ragged is None else None,
        rates=None if ragged is None else model_rates(config, steps=ragged.steps),
        augment=Augmenter.for_seeds(config.augment, seeds),
    )
    progress.close()
    return TrainedStack(
        params=stack.unpack(flat.detach().cpu()),  # views into one buffer, no copy
        privacy=None if calibration is None else calibration.as_dict(),
    )


def _present(*, absent: np.ndarray, keep: np.ndarray, rows: torch.Tensor) -> torch.Tensor:
    """``~absent`` at model k's rows ``rows[k]``, bool ``[K, n]``.

    Raises:
        ConfigError: if ``absent`` is not a boolean mask of ``keep``'s shape within it.
    """
    absent = np.asarray(absent)
    if absent.dtype != np.bool_ or absent.shape != np.shape(keep) or (absent & ~keep).any():
        raise ConfigError(
            f"absent: dtype {absent.dtype} shape {list(absent.shape)} is not allowed; "
            "allowed: a boolean mask of keep's shape, true only where keep is"
        )
    return torch.from_numpy(~absent).gather(1, rows)
