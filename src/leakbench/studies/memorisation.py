"""Song et al. 2017 (Machine Learning Models that Remember Too Much), white-box
encodings: one benign model and its malicious twins, trained stacked, and the training
images read back out of their parameters.

Per grid row, one stack trains the benign model (lambda 0) beside one model per
correlated-value and per sign encoding (the malicious term is each model's own
``param_loss``, so every model trains as it would alone). LSB encoding needs no training
of its own: it overwrites the benign model's low bits after training (section 4.1), and
the countermeasure (section 7) randomises the same bits again. The secret is the first
``images`` training records, quantised to 8-bit pixels (:mod:`leakbench.malicious.secret`);
the parameters carrying it are the model's parameters in declaration order, flattened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from leakbench import metrics
from leakbench.data.pool import Pool
from leakbench.data.spec import DatasetSpec
from leakbench.errors import ConfigError
from leakbench.malicious import decode, lsb, penalties, quality, secret
from leakbench.models import build_model
from leakbench.seeding import derive_seed
from leakbench.training import Hooks, StackedModels, TrainConfig, predict_logits, train_stacked

STUDY = "memorisation"
TRAINED = ("correlation", "sign")  # encodings with a training-time term; lsb is post hoc


@dataclass(frozen=True)
class Split:
    """Pool indices of one grid row: the models' training and testing records; the
    secret is the first training records, in this order."""

    train: np.ndarray
    test: np.ndarray


def make_split(*, n_pool: int, row: Mapping[str, Any], seed: int) -> Split:
    """``records`` pool records in a seeded random order, the first ``floor(records *
    train_fraction)`` for training (secret order), the rest for testing.

    Raises:
        ConfigError: if the pool holds fewer than ``records`` records.
    """
    if row["records"] > n_pool:
        raise ConfigError(
            f"memorisation.grid.records: {row['records']} is not allowed; allowed: at most "
            f"{n_pool} (the records of {row['dataset']})"
        )
    chosen = np.random.default_rng(seed).permutation(n_pool)[: row["records"]]
    n_train = int(row["records"] * row["train_fraction"])
    return Split(train=chosen[:n_train], test=np.sort(chosen[n_train:]))


def capacity(*, encoding: Mapping[str, Any], n_params: int, pixels: int) -> int:
    """Whole images an encoding can hold in ``n_params`` parameters: ``n_params * b /
    (8 d)`` for LSB with b bits, ``n_params / d`` for correlated values (one parameter per
    pixel), ``n_params / (8 d)`` for signs (one bit per parameter), d pixels per image."""
    per_param = {"correlation": secret.PIXEL_BITS, "sign": 1}
    name = encoding["encoding"]
    bits = encoding["bits"] if name == "lsb" else per_param[name]
    return n_params * bits // (pixels * secret.PIXEL_BITS)


def secret_images(*, encoding: Mapping[str, Any], n_params: int, pixels: int, n_train: int) -> int:
    """The images an encoding hides: its ``images``, or all its capacity allows (at
    most the training records)."""
    fit = min(capacity(encoding=encoding, n_params=n_params, pixels=pixels), n_train)
    return fit if encoding.get("images") is None else int(encoding["images"])


def parameter(encoding: Mapping[str, Any]) -> float:
    """An encoding's parameter: b for lsb, lambda otherwise."""
    return encoding["bits"] if encoding["encoding"] == "lsb" else encoding["lambda"]


def encoding_label(encoding: Mapping[str, Any]) -> str:
    """``lsb-b20``, ``correlation-l3`` ...: the encoding and its parameter."""
    if encoding["encoding"] == "lsb":
        return f"lsb-b{encoding['bits']}"
    return f"{encoding['encoding']}-l{encoding['lambda']:g}"


def check_study(*, study: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]) -> None:
    """Refuse, before any job, what the schema cannot express: b outside 1 .. 23, a
    negative lambda (also the schema's bounds; checked here for callers without it), an
    encoding listed twice, and a secret larger than the encoding's capacity or than the
    training records.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    labels: list[str] = []
    for j, encoding in enumerate(study["encodings"]):
        key = f"memorisation.encodings.{j}"
        if encoding["encoding"] == "lsb":
            lsb.check_bits(f"{key}.bits", encoding["bits"])
        elif encoding["lambda"] < 0:
            raise ConfigError(
                f"{key}.lambda: {encoding['lambda']!r} is not allowed; allowed: a number >= 0"
            )
        labels.append(encoding_label(encoding))
        if labels.count(labels[-1]) > 1:
            raise ConfigError(
                f"{key}: {labels[-1]} is not allowed; allowed: each encoding and parameter once"
            )
    for i, row in enumerate(study["grid"]):
        spec = datasets[row["dataset"]]
        n_params = sum(
            p.numel()
            for p in build_model(
                row["arch"],
                input_shape=spec.input_shape,
                num_classes=spec.num_classes,
                **row.get("arch_params", {}),
            ).parameters()
        )
        pixels = int(np.prod(spec.input_shape))
        n_train = int(row["records"] * row["train_fraction"])
        for j, encoding in enumerate(study["encodings"]):
            fit = capacity(encoding=encoding, n_params=n_params, pixels=pixels)
            images = encoding.get("images")
            if images is not None and images > min(fit, n_train):
                raise ConfigError(
                    f"memorisation.encodings.{j}.images: {images} is not allowed; allowed: "
                    f"at most {min(fit, n_train)} ({encoding_label(encoding)} holds {fit} "
                    f"images of {pixels} pixels in the {n_params} parameters of "
                    f"memorisation.grid.{i}, which trains on {n_train} records)"
                )
            if images is None and fit < 1:
                raise ConfigError(
                    f"memorisation.encodings.{j}: {encoding_label(encoding)} is not allowed "
                    f"with memorisation.grid.{i}; allowed: an encoding whose capacity holds "
                    f"one image ({pixels} pixels; {n_params} parameters)"
                )


def flatten(params: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """``[K, P]``: each model's parameters in declaration order, flattened."""
    return torch.cat([p.reshape(p.shape[0], -1) for p in params.values()], dim=1)


def malicious_hooks(
    *, lambdas_c: Sequence[float], lambdas_s: Sequence[float], values: np.ndarray, bits: np.ndarray
) -> Hooks:
    """Hooks adding, for model k, ``C_k`` over the first ``len(values)`` parameters and
    ``P_k`` over the first ``len(bits)`` (:mod:`leakbench.malicious.penalties`)."""
    lam_c = torch.tensor(lambdas_c, dtype=torch.float32)
    lam_s = torch.tensor(lambdas_s, dtype=torch.float32)
    s_values = torch.as_tensor(values, dtype=torch.float32)
    signs = torch.as_tensor(bits, dtype=torch.float32) * 2 - 1

    def param_loss(params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        theta = flatten(params)
        c = penalties.correlation_term(
            theta[:, : len(s_values)], s_values.to(theta), lam_c.to(theta)
        )
        p = penalties.sign_term(theta[:, : len(signs)], signs.to(theta), lam_s.to(theta))
        return c + p

    return Hooks(param_loss=param_loss)


@dataclass(frozen=True)
class Decoded:
    """One encoded model's result: its test accuracy, the secret images it hid and what
    decoding read back (uint8 ``[n, d]`` each), and the fraction of secret bits lost
    (sign and LSB encodings; None for correlated values)."""

    label: str
    encoding: str
    parameter: float
    accuracy: float
    original: np.ndarray
    decoded: np.ndarray
    flipped: float | None


def _trained_encodings(study: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [e for e in study["encodings"] if e["encoding"] in TRAINED]


def train(
    *, pool: Pool, split: Split, row: Mapping[str, Any], study: Mapping[str, Any], seed: int
) -> StackedModels:
    """Train the benign model (slot 0) and one model per correlated-value and sign
    encoding, stacked, all from the same seed (so they differ only by their term)."""
    trained = _trained_encodings(study)
    n_params, pixels = _sizes(row, pool)
    pixels_train = secret.quantise(pool.x[split.train])
    lam_c = [0.0] + [e["lambda"] if e["encoding"] == "correlation" else 0.0 for e in trained]
    lam_s = [0.0] + [e["lambda"] if e["encoding"] == "sign" else 0.0 for e in trained]
    n_values = _largest(study, "correlation", n_params, pixels, len(split.train))
    n_bits = _largest(study, "sign", n_params, pixels, len(split.train))
    keep = np.zeros((1 + len(trained), len(pool)), dtype=bool)
    keep[:, split.train] = True
    return train_stacked(
        arch=row["arch"],
        arch_params=row["arch_params"],
        x=pool.x,
        y=pool.y,
        num_classes=pool.num_classes,
        keep=keep,
        seeds=[seed] * keep.shape[0],
        config=TrainConfig.from_row(row),
        hooks=malicious_hooks(
            lambdas_c=lam_c,
            lambdas_s=lam_s,
            values=pixels_train[:n_values].reshape(-1).astype(np.float32),
            bits=secret.to_bits(pixels_train[:n_bits]),
        ),
    )


def _sizes(row: Mapping[str, Any], pool: Pool) -> tuple[int, int]:
    """(parameters per model, pixels per image) of a grid row on its pool."""
    model = build_model(
        row["arch"],
        input_shape=pool.x.shape[1:],
        num_classes=pool.num_classes,
        **row["arch_params"],
    )
    return sum(p.numel() for p in model.parameters()), int(np.prod(pool.x.shape[1:]))


def _largest(study: Mapping[str, Any], name: str, n_params: int, pixels: int, n_train: int) -> int:
    """The images the trained encodings of one kind share as their secret prefix (each
    model's term covers the most any of them hides; 0 without such an encoding)."""
    counts = [
        secret_images(encoding=e, n_params=n_params, pixels=pixels, n_train=n_train)
        for e in study["encodings"]
        if e["encoding"] == name
    ]
    return max(counts, default=0)


def evaluate(
    *,
    pool: Pool,
    split: Split,
    models: StackedModels,
    study: Mapping[str, Any],
    seed: int,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Encode (LSB), decode every encoding, apply the countermeasure, measure.

    Returns:
        The metrics (benign accuracy and one row per encoding and per countermeasure) and
        the arrays the figure draws (``original`` and each label's decoded images, the
        first ``shown`` of each).
    """
    n_params, pixels = _sizes({"arch": models.arch, "arch_params": models.arch_params}, pool)
    n_train = len(split.train)
    pixels_train = secret.quantise(pool.x[split.train])
    theta = flatten(models.params).numpy()
    benign = theta[0]
    candidates: list[tuple[Mapping[str, Any], str, np.ndarray]] = []
    rng = np.random.default_rng(seed)
    trained = iter(range(1, models.count))
    for encoding in study["encodings"]:
        n = secret_images(encoding=encoding, n_params=n_params, pixels=pixels, n_train=n_train)
        if encoding["encoding"] == "lsb":
            bits = secret.to_bits(pixels_train[:n])
            encoded = lsb.encode(benign, bits, encoding["bits"])
            candidates.append((encoding, "encoded", encoded))
            candidates.append(
                (encoding, "randomised", lsb.randomise(encoded, encoding["bits"], rng))
            )
        else:
            candidates.append((encoding, "encoded", theta[next(trained)]))
    stack = np.stack([benign] + [c[2] for c in candidates])
    accuracy = _accuracies(models, stack, pool, split)
    rows, arrays = [], {"original": pixels_train[: study["shown"]]}
    for (encoding, form, params), acc in zip(candidates, accuracy[1:], strict=True):
        n = secret_images(encoding=encoding, n_params=n_params, pixels=pixels, n_train=n_train)
        result = _decode(encoding, params, pixels_train[:n], pixels)
        shape = quality.image_shape(tuple(pool.x.shape[1:]))
        errors = quality.mape(result[0], pixels_train[:n])
        label = encoding_label(encoding) + ("" if form == "encoded" else "-randomised")
        rows.append(
            {
                "label": label,
                "encoding": encoding["encoding"],
                "parameter": parameter(encoding),
                "countermeasure": form == "randomised",
                "test_accuracy": acc,
                "accuracy_drop": accuracy[0] - acc,
                "images": n,
                "recovered": int((errors <= study["recovered_mape"]).sum()),
                "mape": float(errors.mean()),
                "ssim": float(quality.ssim(result[0], pixels_train[:n], shape).mean()),
                "bits_flipped": result[1],
            }
        )
        arrays[label] = result[0][: study["shown"]]
    summary = {"benign_test_accuracy": accuracy[0], "parameters": n_params, "encodings": rows}
    return summary, arrays


def _decode(
    encoding: Mapping[str, Any], params: np.ndarray, original: np.ndarray, pixels: int
) -> tuple[np.ndarray, float | None]:
    """(decoded images uint8 ``[n, d]``, fraction of secret bits lost or None)."""
    n = len(original)
    if encoding["encoding"] == "correlation":
        values = params[: n * pixels]
        rho = np.corrcoef(values, original.reshape(-1).astype(np.float64))[0, 1]
        return decode.values_to_pixels(values, pixels, invert=bool(rho < 0)), None
    truth = secret.to_bits(original)
    if encoding["encoding"] == "lsb":
        bits = lsb.decode(params, encoding["bits"], len(truth))
    else:
        bits = decode.signs_to_bits(params[: len(truth)])
    return secret.from_bits(bits, original.shape), decode.flipped_fraction(bits, truth)


def _accuracies(models: StackedModels, stack: np.ndarray, pool: Pool, split: Split) -> list[float]:
    """Test accuracy of each flattened parameter vector of ``stack`` as a model of
    ``models``' architecture."""
    flat = torch.from_numpy(np.ascontiguousarray(stack))
    params, start = {}, 0
    for name, value in models.params.items():
        size = int(np.prod(value.shape[1:]))
        params[name] = flat[:, start : start + size].reshape(len(stack), *value.shape[1:])
        start += size
    variants = StackedModels(
        arch=models.arch,
        arch_params=models.arch_params,
        input_shape=models.input_shape,
        num_classes=models.num_classes,
        seeds=(models.seeds[0],) * len(stack),
        params=params,
    )
    logits = predict_logits(variants, pool.x[split.test])
    return [metrics.accuracy(logits=lg, labels=pool.y[split.test]) for lg in logits]


def model_seed(*, seed: int, dataset: str, variant: str) -> int:
    """The seed every model of a grid row starts from (benign and malicious alike)."""
    return derive_seed(seed, STUDY, dataset, variant, "models")
