"""Song et al. 2017 (Machine Learning Models that Remember Too Much): one benign model
and its malicious twins, trained stacked, and the training images read back out of their
parameters (white-box) or their answers (black-box).

Per grid row, the stack holds the benign model (lambda 0) beside one model per
correlated-value and per sign encoding (the malicious term is each model's own
``param_loss``, so every model trains as it would alone) and one per capacity-abuse
encoding (its own training records plus its synthetic inputs, section 5). LSB encoding
needs no training of its own: it overwrites the benign model's low bits after training
(section 4.1), and the countermeasure (section 7) randomises the same bits again. The
stack then holds benign models from seeds of their own: the reference and the benign
models that set the parameter-distribution check's threshold (section 7, Fig. 6). It ends
with one step-matched control set per capacity encoding: the same benign seeds trained on
the training records repeated to the capacity model's augmented size, so they take as many
optimiser steps as the capacity model (which trains on more records, hence longer, than the
benign model). The capacity model is checked against both references, so a flag that
comes from the training length and not from the encoding shows. The control repeats the
real records rather than adding synthetic inputs with random labels: a model trained on
synthetic inputs would itself be a capacity-abuse model (of a random secret) and no
benign model a receiver could be handed (:mod:`leakbench.studies.memorisation_controls`).
The models of one row count (hence one step count) train in one stacked computation
(:func:`train`).
The secret is the first ``images`` training records, quantised to 8-bit pixels
(:mod:`leakbench.malicious.secret`); the parameters carrying it are the model's parameters
in declaration order, flattened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from leakbench import metrics
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.malicious import capacity as cap
from leakbench.malicious import decode, detection, lsb, penalties, quality, secret
from leakbench.models import build_model
from leakbench.seeding import derive_seed
from leakbench.studies.memorisation_controls import (
    TRAINED,
    benign_check,
    repeated,
    slots,
    trained_encodings,
)
from leakbench.studies.memorisation_encodings import (
    Sizes,
    encoding_label,
    parameter,
    secret_images,
)
from leakbench.training import Hooks, StackedModels, TrainConfig, predict_logits, train_stacked
from leakbench.training.samplers import RaggedEpochSampler

STUDY = "memorisation"
HISTOGRAM_BINS = 60  # the parameter histograms' bins over the benign model's central 99.8%


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


def benign_seeds(*, seed: int, study: Mapping[str, Any]) -> list[int]:
    """Seeds of the detection's benign models: the reference first, then the
    ``detection.benign_models`` that set the threshold (none equal to ``seed``)."""
    count = 1 + study["detection"]["benign_models"]
    return [derive_seed(seed, "benign", i) for i in range(count)]


def synthetic_seed(*, seed: int, encoding: Mapping[str, Any]) -> int:
    """The key of a capacity encoding's synthetic inputs (shared by its encoder and its
    decoder)."""
    return derive_seed(seed, "synthetic", encoding_label(encoding))


@dataclass(frozen=True)
class Synthetic:
    """A capacity encoding's synthetic inputs ``x [m, *shape]`` and the labels carrying
    its secret ``y [m]`` (section 5)."""

    x: np.ndarray
    y: np.ndarray


def synthetic_set(
    *,
    encoding: Mapping[str, Any],
    original: np.ndarray,
    sizes: Sizes,
    shape: tuple[int, ...],
    seed: int,
) -> Synthetic:
    """The synthetic inputs of a capacity encoding and their labels: the secret images
    ``original`` (uint8 ``[n, d]``) reduced to ``pixel_bits`` bits per pixel, k bits per
    label."""
    count = cap.synthetic_count(ratio=encoding["ratio"], n_train=sizes.n_train)
    bits = cap.pixel_bits_of(
        cap.reduce_pixels(original, encoding["pixel_bits"]), encoding["pixel_bits"]
    )
    return Synthetic(
        x=cap.synthetic_inputs(
            count=count, shape=shape, seed=synthetic_seed(seed=seed, encoding=encoding)
        ),
        y=cap.labels_of_bits(bits, sizes.num_classes, count),
    )


@dataclass(frozen=True)
class StackData:
    """What :func:`train` hands the trainer: the rows ``x``, ``y``, which rows each model
    trains on (``keep [K, rows]``), the models' seeds and the malicious terms' weights."""

    x: np.ndarray
    y: np.ndarray
    keep: np.ndarray
    seeds: list[int]
    lambdas_c: list[float]
    lambdas_s: list[float]


def stack_data(
    *, pool: Pool, split: Split, row: Mapping[str, Any], study: Mapping[str, Any], seed: int
) -> StackData:
    """The stack of :func:`train`: the benign model (slot 0), one model per
    correlated-value, sign and capacity-abuse encoding, all from ``seed`` (so they differ
    only by their term or their synthetic inputs), then the detection's benign models from
    seeds of their own (:func:`benign_seeds`), then per capacity encoding a step-matched
    control set from the same benign seeds (:class:`Slots`). Every model trains on the
    training records (in pool order); a capacity model also on its synthetic inputs, its
    control set also on the training records :func:`repeated` to as many rows."""
    layout = slots(study)
    trained = trained_encodings(study)
    sizes = _sizes(row, pool, split)
    pixels_train = secret.quantise(pool.x[split.train])
    benign = benign_seeds(seed=seed, study=study)
    order = np.sort(split.train)
    xs, ys = [pool.x[order]], [pool.y[order]]
    keep_parts = [np.ones((layout.count, len(order)), dtype=bool)]
    for slot, encoding in enumerate(trained, start=1):
        if encoding["encoding"] != "capacity":
            continue
        n = secret_images(encoding=encoding, sizes=sizes)
        data = synthetic_set(
            encoding=encoding,
            original=pixels_train[:n],
            sizes=sizes,
            shape=pool.x.shape[1:],
            seed=seed,
        )
        extra = repeated(order, len(data.y))
        for owners, part_x, part_y in (
            ([slot], data.x, data.y),
            (layout.control(encoding_label(encoding)), pool.x[extra], pool.y[extra]),
        ):
            xs.append(part_x)
            ys.append(part_y)
            part = np.zeros((layout.count, len(part_y)), dtype=bool)
            part[list(owners)] = True
            keep_parts.append(part)
    zeros = [0.0] * (layout.count - 1 - len(trained))
    return StackData(
        x=np.concatenate(xs),
        y=np.concatenate(ys),
        keep=np.concatenate(keep_parts, axis=1),
        seeds=[seed] * (1 + len(trained)) + benign * (1 + len(layout.capacity)),
        lambdas_c=[0.0] + [_lambda(e, "correlation") for e in trained] + zeros,
        lambdas_s=[0.0] + [_lambda(e, "sign") for e in trained] + zeros,
    )


def _lambda(encoding: Mapping[str, Any], name: str) -> float:
    """An encoding's lambda if it is of kind ``name``, else 0."""
    return float(encoding.get("lambda", 0.0)) if encoding["encoding"] == name else 0.0


def train(
    *, pool: Pool, split: Split, row: Mapping[str, Any], study: Mapping[str, Any], seed: int
) -> StackedModels:
    """Train the models of :func:`stack_data`, one stack per row count (models of one
    count take the same steps; in one stack every model would be computed until the
    longest ends), and return them in slot order. The correlation term covers the most
    images any correlated-value encoding hides, the sign term the most any sign encoding
    hides (each model weighs them by its own lambdas; a stack whose lambdas are all 0
    trains without the term)."""
    data = stack_data(pool=pool, split=split, row=row, study=study, seed=seed)
    sizes = _sizes(row, pool, split)
    pixels_train = secret.quantise(pool.x[split.train])
    values = pixels_train[: _largest(study, "correlation", sizes)].reshape(-1)
    bits = secret.to_bits(pixels_train[: _largest(study, "sign", sizes)])
    counts = data.keep.sum(axis=1)
    parts = []
    for count in np.unique(counts):
        group = np.flatnonzero(counts == count)
        lam_c = [data.lambdas_c[k] for k in group]
        lam_s = [data.lambdas_s[k] for k in group]
        hooks = None
        if any(lam_c) or any(lam_s):
            hooks = malicious_hooks(
                lambdas_c=lam_c, lambdas_s=lam_s, values=values.astype(np.float32), bits=bits
            )
        trained = train_stacked(
            arch=row["arch"],
            arch_params=row["arch_params"],
            x=data.x,
            y=data.y,
            num_classes=pool.num_classes,
            keep=data.keep[group],
            seeds=[data.seeds[k] for k in group],
            config=TrainConfig.from_row(row),
            hooks=hooks,
        )
        parts.append((group, trained))
    return _in_slots(parts, count=len(counts))


def _in_slots(parts: Sequence[tuple[np.ndarray, StackedModels]], count: int) -> StackedModels:
    """One stack of ``count`` models from stacks whose models belong at the slots
    ``group`` (each pair ``(group, models)``)."""
    first = parts[0][1]
    params = {
        name: torch.empty((count, *value.shape[1:]), dtype=value.dtype)
        for name, value in first.params.items()
    }
    seeds = [0] * count
    for group, models in parts:
        index = torch.as_tensor(group)
        for name, value in models.params.items():
            params[name][index] = value
        for k, s in zip(group, models.seeds, strict=True):
            seeds[int(k)] = s
    return StackedModels(
        arch=first.arch,
        arch_params=first.arch_params,
        input_shape=first.input_shape,
        num_classes=first.num_classes,
        seeds=tuple(seeds),
        params=params,
    )


def _sizes(row: Mapping[str, Any], pool: Pool, split: Split) -> Sizes:
    """The :class:`Sizes` of a grid row on its pool."""
    model = build_model(
        row["arch"],
        input_shape=pool.x.shape[1:],
        num_classes=pool.num_classes,
        **row["arch_params"],
    )
    return Sizes(
        n_params=sum(p.numel() for p in model.parameters()),
        pixels=int(np.prod(pool.x.shape[1:])),
        n_train=len(split.train),
        num_classes=pool.num_classes,
    )


def _largest(study: Mapping[str, Any], name: str, sizes: Sizes) -> int:
    """The images the trained encodings of one kind share as their secret prefix (each
    model's term covers the most any of them hides; 0 without such an encoding)."""
    counts = [
        secret_images(encoding=e, sizes=sizes) for e in study["encodings"] if e["encoding"] == name
    ]
    return max(counts, default=0)


def evaluate(
    *,
    pool: Pool,
    split: Split,
    models: StackedModels,
    row: Mapping[str, Any],
    study: Mapping[str, Any],
    seed: int,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Encode (LSB), decode every encoding, apply the countermeasure, check the
    parameter distributions, measure.

    Each model is checked against the benign reference (``ks``, ``detected``) and against
    the reference trained for as many optimiser steps as it (``ks_matched``,
    ``detected_matched``): for a capacity model its control set's (:class:`Slots`, with a
    threshold of its own from the set's null models), for every other model, which
    trains as long as the benign one, the benign reference again. ``steps`` are each
    model's optimiser steps on the rows :func:`stack_data` gave it.

    Returns:
        The metrics (benign accuracy, the detection's threshold, benign statistics and
        steps, each control set's, one row per encoding and per countermeasure) and the
        arrays the figures draw (``original`` and each label's decoded images, the first
        ``shown`` of each; the parameter histograms ``hist_edges`` and ``hist_<label>``,
        benign included, and ``hist_<label>-control`` of each capacity encoding's
        step-matched reference).
    """
    sizes = _sizes({"arch": models.arch, "arch_params": models.arch_params}, pool, split)
    pixels_train = secret.quantise(pool.x[split.train])
    theta = flatten(models.params).numpy()
    layout = slots(study)
    steps = stack_steps(pool=pool, split=split, row=row, study=study, seed=models.seeds[0])
    reference = theta[layout.reference]
    false_alarm = study["detection"]["false_alarm"]
    check = benign_check(models=theta[layout.reference : layout.null.stop], false_alarm=false_alarm)
    controls = {
        label: benign_check(
            models=theta[layout.control(label).start : layout.control(label).stop],
            false_alarm=false_alarm,
        )
        for label in layout.capacity
    }
    candidates: list[tuple[Mapping[str, Any], str, int, np.ndarray]] = []
    rng = np.random.default_rng(seed)
    trained = iter(range(1, 1 + layout.trained))
    for encoding in study["encodings"]:
        n = secret_images(encoding=encoding, sizes=sizes)
        if encoding["encoding"] == "lsb":
            bits = secret.to_bits(pixels_train[:n])
            encoded = lsb.encode(theta[0], bits, encoding["bits"])
            candidates.append((encoding, "encoded", 0, encoded))
            candidates.append(
                (encoding, "randomised", 0, lsb.randomise(encoded, encoding["bits"], rng))
            )
        else:
            slot = next(trained)
            candidates.append((encoding, "encoded", slot, theta[slot]))
    accuracy = _accuracies(models, np.stack([theta[0]] + [c[3] for c in candidates]), pool, split)
    edges = np.linspace(*np.quantile(theta[0], [0.001, 0.999]), num=HISTOGRAM_BINS + 1)
    arrays = {"original": pixels_train[: study["shown"]], "hist_edges": edges}
    arrays["hist_benign"] = detection.histogram(theta[0], edges)
    shape = quality.image_shape(tuple(pool.x.shape[1:]))
    rows = []
    for (encoding, form, slot, params), acc in zip(candidates, accuracy[1:], strict=True):
        n = secret_images(encoding=encoding, sizes=sizes)
        if encoding["encoding"] == "capacity":
            result = _query_capacity(encoding, models, params, pixels_train[:n], sizes, pool)
        else:
            result = _decode(encoding, params, pixels_train[:n], sizes.pixels)
        errors = quality.mape(result[0], pixels_train[:n])
        label = encoding_label(encoding) + ("" if form == "encoded" else "-randomised")
        matched = controls.get(label, check)
        ks = detection.ks_statistic(params, reference)
        ks_matched = detection.ks_statistic(params, matched.reference)
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
                "steps": steps[slot],
                "ks": ks,
                "detected": ks > check.threshold,
                "ks_matched": ks_matched,
                "detected_matched": ks_matched > matched.threshold,
            }
        )
        arrays[label] = result[0][: study["shown"]]
        if encoding["encoding"] in TRAINED:
            arrays[f"hist_{label}"] = detection.histogram(params, edges)
        if label in controls:
            arrays[f"hist_{label}-control"] = detection.histogram(matched.reference, edges)
    benign_ks = detection.ks_statistic(theta[0], reference)
    summary = {
        "benign_test_accuracy": accuracy[0],
        "parameters": sizes.n_params,
        "detection": {
            "threshold": check.threshold,
            "null_ks": check.null_ks,
            "benign_ks": benign_ks,
            "benign_detected": benign_ks > check.threshold,
            "steps": steps[layout.reference],
            "controls": {
                label: {
                    "steps": steps[layout.control(label).start],
                    "threshold": c.threshold,
                    "null_ks": c.null_ks,
                }
                for label, c in controls.items()
            },
        },
        "encodings": rows,
    }
    return summary, arrays


def stack_steps(
    *, pool: Pool, split: Split, row: Mapping[str, Any], study: Mapping[str, Any], seed: int
) -> list[int]:
    """The optimiser steps each model of :func:`stack_data`'s stack takes:
    ``epochs * ceil(n_k / batch_size)`` for its n_k rows
    (:class:`~leakbench.training.samplers.RaggedEpochSampler`, as the trainer runs it)."""
    counts = stack_data(pool=pool, split=split, row=row, study=study, seed=seed).keep.sum(axis=1)
    config = TrainConfig.from_row(row)
    sampler = RaggedEpochSampler(config.epochs, config.batch_size, tuple(int(c) for c in counts))
    return list(sampler.steps)


def _query_capacity(
    encoding: Mapping[str, Any],
    models: StackedModels,
    params: np.ndarray,
    original: np.ndarray,
    sizes: Sizes,
    pool: Pool,
) -> tuple[np.ndarray, float]:
    """Capacity abuse's black-box decoder: regenerate the synthetic inputs from the key,
    query the model (``params``) on them alone, read the secret off the predicted labels.
    Returns (decoded images uint8 ``[n, d]``, fraction of secret bits lost)."""
    p = encoding["pixel_bits"]
    truth = cap.pixel_bits_of(cap.reduce_pixels(original, p), p)
    data = synthetic_set(
        encoding=encoding,
        original=original,
        sizes=sizes,
        shape=pool.x.shape[1:],
        seed=models.seeds[0],
    )
    logits = predict_logits(_as_models(models, params[None]), data.x)[0]
    bits = cap.bits_of_labels(np.argmax(logits, axis=1), sizes.num_classes, len(truth))
    reduced = cap.pixels_of_bits(bits, p, original.shape)
    return cap.expand_pixels(reduced, p), decode.flipped_fraction(bits, truth)


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


def _as_models(models: StackedModels, stack: np.ndarray) -> StackedModels:
    """Each flattened parameter vector of ``stack`` as a model of ``models``' architecture."""
    flat = torch.from_numpy(np.ascontiguousarray(stack))
    params, start = {}, 0
    for name, value in models.params.items():
        size = int(np.prod(value.shape[1:]))
        params[name] = flat[:, start : start + size].reshape(len(stack), *value.shape[1:])
        start += size
    return StackedModels(
        arch=models.arch,
        arch_params=models.arch_params,
        input_shape=models.input_shape,
        num_classes=models.num_classes,
        seeds=(models.seeds[0],) * len(stack),
        params=params,
    )


def _accuracies(models: StackedModels, stack: np.ndarray, pool: Pool, split: Split) -> list[float]:
    """Test accuracy of each flattened parameter vector of ``stack`` as a model of
    ``models``' architecture."""
    logits = predict_logits(_as_models(models, stack), pool.x[split.test])
    return [metrics.accuracy(logits=lg, labels=pool.y[split.test]) for lg in logits]


def model_seed(*, seed: int, dataset: str, variant: str) -> int:
    """The seed every model of a grid row starts from (benign and malicious alike)."""
    return derive_seed(seed, STUDY, dataset, variant, "models")
