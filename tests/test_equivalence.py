"""Equivalence harness over every registered architecture (in the style of Opacus's
``tests/grad_samples/common.py``): K models trained stacked equal each model trained alone
from the same seed, with and without DP-SGD; stacked predictions equal each plain module's;
on the architectures the fast path supports, the fast path equals the torch.func fallback.

Parametrised over :data:`leakbench.models.ARCHITECTURES`, each at its registered tiny
``example``, so a newly registered builder is covered without touching this file.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from leakbench.models import ARCHITECTURES, INPUTS
from leakbench.privacy import DPConfig
from leakbench.training import TrainConfig, predict_logits, seeded_model, train_stacked
from leakbench.training.ensemble import INPUT_DTYPES
from leakbench.training.stacked_net import StackedNet

pytestmark = pytest.mark.usefixtures("deterministic_torch")
NAMES = sorted(ARCHITECTURES)
SEEDS = (21, 22, 23)
RECORDS, MEMBERS = 36, 18
CONFIGS = {
    "plain": TrainConfig(epochs=2, batch_size=6, lr=0.05, weight_decay=0.01),
    "dp": TrainConfig(
        epochs=2,
        batch_size=6,
        lr=0.05,
        privacy=DPConfig(epsilon=4.0, delta=1e-3, max_grad_norm=0.5),
    ),
}


def _job(name: str) -> dict:
    """The arguments of train_stacked for ``name``'s example, on random data."""
    arch = ARCHITECTURES[name]
    example = arch.example
    shape, classes = tuple(example["input_shape"]), example["num_classes"]
    rng = np.random.default_rng(0)
    if arch.inputs == "tokens":
        x = rng.integers(0, example["arch_params"]["vocab"], (RECORDS, *shape))
    else:
        x = rng.random((RECORDS, *shape), dtype=np.float32)
    keep = np.zeros((len(SEEDS), RECORDS), dtype=bool)
    for row in keep:
        row[rng.choice(RECORDS, MEMBERS, replace=False)] = True
    return {
        "arch": name,
        "arch_params": example["arch_params"],
        "x": x,
        "y": rng.integers(0, classes, RECORDS),
        "num_classes": classes,
        "keep": keep,
        "seeds": list(SEEDS),
    }


def _close(a: dict, b: dict, k: int | None = None, rtol: float = 1e-4, atol: float = 1e-5):
    assert a.keys() == b.keys()
    for name, p in a.items():
        torch.testing.assert_close(p if k is None else p[k], b[name], rtol=rtol, atol=atol)


def test_every_input_kind_has_a_dtype():
    assert set(INPUT_DTYPES) == set(INPUTS)


@pytest.mark.parametrize("mode", sorted(CONFIGS))
@pytest.mark.parametrize("name", NAMES)
def test_stacked_models_equal_each_model_alone(name, mode):
    job = _job(name)
    config = CONFIGS[mode]
    stacked = train_stacked(**job, config=config)
    assert (stacked.privacy is not None) == (mode == "dp")
    initial = seeded_model(
        arch=name,
        arch_params=job["arch_params"],
        input_shape=job["x"].shape[1:],
        num_classes=job["num_classes"],
        seed=SEEDS[1],
    )
    moved = max((stacked.params[n][1] - p).abs().max() for n, p in initial.named_parameters())
    assert moved > 1e-3  # training happened
    for k, seed in enumerate(SEEDS):
        alone = train_stacked(
            **{**job, "keep": job["keep"][k : k + 1], "seeds": [seed]}, config=config
        )
        _close(stacked.params, {n: p[0] for n, p in alone.params.items()}, k)


@pytest.mark.parametrize("name", NAMES)
def test_stacked_predictions_equal_each_plain_module(name):
    job = _job(name)
    models = train_stacked(**job, config=CONFIGS["plain"])
    logits = predict_logits(models, job["x"], batch_size=10)
    assert logits.shape == (len(SEEDS), RECORDS, job["num_classes"])
    x = torch.as_tensor(np.asarray(job["x"], dtype=INPUT_DTYPES[models.inputs]))
    for k in range(len(SEEDS)):
        with torch.no_grad():
            expected = models.model(k)(x).numpy()  # eval mode: dropout off
        np.testing.assert_allclose(logits[k], expected, rtol=1e-5, atol=1e-6)


def _template(name: str) -> torch.nn.Module:
    example = ARCHITECTURES[name].example
    return seeded_model(
        arch=name,
        arch_params=example["arch_params"],
        input_shape=example["input_shape"],
        num_classes=example["num_classes"],
        seed=0,
    )


FAST = [name for name in NAMES if StackedNet.supports(_template(name))]


def test_the_fast_path_takes_the_chains_it_took_before():
    assert {"logreg", "mlp", "cnn"} <= set(FAST)


@pytest.mark.parametrize("mode", sorted(CONFIGS))
@pytest.mark.parametrize("name", FAST)
def test_fast_path_equals_fallback(name, mode):
    job = _job(name)
    fast = train_stacked(**job, config=CONFIGS[mode], engine="fast")
    func = train_stacked(**job, config=CONFIGS[mode], engine="func")
    _close(func.params, fast.params, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        predict_logits(func, job["x"], engine="func"),
        predict_logits(fast, job["x"], engine="fast"),
        rtol=1e-4,
        atol=1e-5,
    )
