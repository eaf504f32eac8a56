"""Outputs of K stacked models on the same inputs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from leakbench.errors import ConfigError
from leakbench.training.device import resolve_device
from leakbench.training.engine import make_engine
from leakbench.training.ensemble import INPUT_DTYPES, StackedModels
from leakbench.training.progress import ProgressMeter


def predict_logits(
    models: StackedModels, x: np.ndarray, *, batch_size: int = 4096, engine: str = "auto"
) -> np.ndarray:
    """Logits of every model on every input, in eval mode, without gradients.

    The inputs go through in chunks of ``batch_size`` rows on the device named by
    ``$LEAKBENCH_DEVICE``, on the engine the trainer chooses for the same architecture
    (:func:`~leakbench.training.engine.make_engine`).

    Args:
        models: K models.
        x: inputs ``[N, *models.input_shape]`` (float, or token ids for a model that takes
            tokens).
        batch_size: rows per forward pass.
        engine: ``"auto"``, ``"fast"`` or ``"func"``.

    Returns:
        float32 ``[K, N, num_classes]``; ``[k, i]`` is model k's logits on ``x[i]``.

    Raises:
        ConfigError: if ``x`` has the wrong record shape or ``batch_size`` < 1.
    """
    return logits_function(models, batch_size=batch_size, engine=engine)(x)


def logits_function(
    models: StackedModels, *, batch_size: int = 4096, engine: str = "auto"
) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`predict_logits` as a function of the inputs, with the engine built and the
    parameters packed once: for callers that query the same models many times (the
    hill-climbing chains of model-based synthesis).

    Raises:
        ConfigError: if ``batch_size`` < 1 (at once) or an input has the wrong record
            shape (when called).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size: {batch_size!r} is not allowed; allowed: an integer >= 1")
    device = resolve_device()
    net = make_engine(template=models.template(), count=models.count, engine=engine)
    params = net.views(net.pack(models.params).to(device))

    @torch.no_grad()
    def logits(x: np.ndarray) -> np.ndarray:
        inputs = np.asarray(x, dtype=INPUT_DTYPES[models.inputs])
        if inputs.shape[1:] != tuple(models.input_shape):
            raise ConfigError(
                f"x: record shape {list(inputs.shape[1:])} is not allowed; "
                f"allowed: {list(models.input_shape)} (the models' input shape)"
            )
        out = np.empty((models.count, len(inputs), models.num_classes), dtype=np.float32)
        x_t = torch.from_numpy(inputs)
        meter = ProgressMeter(
            label=f"predicting {models.count} model{'' if models.count == 1 else 's'}",
            unit="row",
            total=len(inputs),
            models=models.count,
            samples_per_unit=1,
        )
        for start in range(0, len(inputs), batch_size):
            chunk = x_t[start : start + batch_size].to(device)
            out[:, start : start + len(chunk)] = net.logits(params, chunk).cpu().numpy()
            meter.update(start + len(chunk))
        meter.close()
        return out

    return logits
