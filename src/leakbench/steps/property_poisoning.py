"""File-level steps of the property-poisoning study.

See :mod:`leakbench.studies.property_poisoning` for the study itself.

``study`` is the config's ``property_poisoning`` section; ``group`` names a set of models
trained together: ``"<t0>-<t1>"`` for the two-world attack, ``"regression"`` for the ratio
regression.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from leakbench import metrics
from leakbench.attacks.property import fit_ratio_regressor, fit_threshold, mean_absolute_error
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.io import read_npz, write_npz
from leakbench.names import REGRESSION, RatioPair, variant_label
from leakbench.poisoning import make_poison, poison_count
from leakbench.privacy import row_epsilon
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import property_poisoning as study_lib
from leakbench.studies.property_rates import poison_rates
from leakbench.studies.property_splits import PropertySides, check_fraction, make_sides
from leakbench.training import StackedModels, load_models, save_models

STUDY = "property_poisoning"


def _property(pool: Pool, name: str, dataset: str) -> np.ndarray:
    if name not in pool.properties:
        raise ConfigError(
            f"property_poisoning.properties: {name!r} is not a property of {dataset}; "
            f"allowed: {', '.join(sorted(pool.properties)) or 'none'}"
        )
    prop = pool.properties[name]
    if not prop.any():
        raise ConfigError(f"property_poisoning.properties: {name!r} matches no record of {dataset}")
    return prop


def _plan(study: Mapping[str, Any], group: str) -> study_lib.ModelPlan:
    if group == REGRESSION:
        reg = study[REGRESSION]
        return study_lib.ratio_plan(
            target_ratios=reg["target_ratios"],
            targets=reg["targets_per_ratio"],
            shadow_ratios=reg["shadow_ratios"],
            shadows=reg["shadows_per_ratio"],
        )
    pair = RatioPair.parse(group)
    return study_lib.distinguishing_plan(
        t0=pair.t0,
        t1=pair.t1,
        targets=study["targets_per_world"],
        shadows=study["shadows_per_world"],
    )


def _groups(study: Mapping[str, Any]) -> list[str]:
    groups = [str(RatioPair(t0, t1)) for t0, t1 in study["ratio_pairs"]]
    return groups + ([REGRESSION] if study.get(REGRESSION) else [])


def split(*, job: Job, files: Files) -> None:
    """Cut the pool into victim and adversary sides for one property and check, before any
    training, that every configured ratio, poison set and query set fits in them."""
    dataset, prop_name = job.wildcard("dataset"), job.wildcard("property")
    study = job.setting("study")
    data = Pool.load(files.input("pool"))
    prop = _property(data, prop_name, dataset)
    train_size = study["train_size"]
    poison_max = max(
        poison_count(rate=rate, clean=train_size)
        for group in _groups(study)
        for rate in poison_rates(study, group)
    )
    factor = 2 if study["query_selection"] == "uncertain" else 1
    sides = make_sides(
        prop=prop,
        test_size=study["test_size"],
        query_candidates=factor * study["queries"],
        poison_max=poison_max,
        seed=derive_seed(job.config_seed, STUDY, dataset, prop_name, "sides"),
    )
    for group in _groups(study):
        plan = _plan(study, group)
        for is_target, ratio in sorted(
            set(zip(plan.is_target.tolist(), plan.ratio.tolist(), strict=True))
        ):
            rows = sides.victim if is_target else sides.shadow
            check_fraction(rows=rows, prop=prop, size=train_size, fraction=ratio)
    write_npz(files.output(), **sides.arrays())


def _seeds(
    seed: int, dataset: str, prop_name: str, group: str, model: str, kind: str, count: int
) -> list[int]:
    return [
        derive_seed(seed, STUDY, dataset, prop_name, group, model, kind, k) for k in range(count)
    ]


def train(*, job: Job, files: Files) -> None:
    """Train a group's models once per poisoning rate; output i is rate i's file."""
    dataset, prop_name, group = (job.wildcard(k) for k in ("dataset", "property", "group"))
    study, model, seed = job.setting("study"), job.row, job.config_seed
    models_out = files.output_list
    configure_torch()
    data = Pool.load(files.input("pool"))
    prop = _property(data, prop_name, dataset)
    row_sides = PropertySides.from_arrays(read_npz(files.input("sides")))
    plan = _plan(study, group)
    rates = poison_rates(study, group)
    if len(models_out) != len(rates):
        raise ConfigError(
            f"{job.rule}: output: {len(models_out)} files is not allowed; "
            f"allowed: one per poisoning rate ({len(rates)})"
        )
    count = plan.ratio.size
    for rate, out in zip(rates, models_out, strict=True):
        poison = make_poison(
            candidates=row_sides.poison,
            count=poison_count(rate=rate, clean=study["train_size"]),
            label=study["target_label"],
            num_classes=data.num_classes,
        )
        models = study_lib.train_group(
            pool=data,
            prop=prop,
            sides=row_sides,
            plan=plan,
            train_size=study["train_size"],
            poison=poison,
            model=model,
            data_seeds=_seeds(seed, dataset, prop_name, group, model["variant"], "data", count),
            init_seeds=_seeds(seed, dataset, prop_name, group, model["variant"], "init", count),
        )
        save_models(out, models)


def _queries(
    *,
    data: Pool,
    row_sides: PropertySides,
    plan: study_lib.ModelPlan,
    study: Mapping[str, Any],
    clean_models: Path | None,
) -> np.ndarray:
    """The query rows; ``uncertain`` selection asks the group's unpoisoned shadow models
    (never its targets, which the adversary does not hold)."""
    clean_shadows = None
    if study["query_selection"] == "uncertain":
        if clean_models is None:
            raise ConfigError(
                "property_poisoning.query_selection: 'uncertain' needs 0 among poison_rates "
                "(the unpoisoned shadow models it asks)"
            )
        clean_shadows = _shadows_only(load_models(clean_models), plan)
    return study_lib.select_queries(
        pool=data,
        candidates=row_sides.queries,
        count=study["queries"],
        selection=study["query_selection"],
        target_label=study["target_label"],
        clean_shadows=clean_shadows,
    )


def _shadows_only(models: StackedModels, plan: study_lib.ModelPlan) -> StackedModels:
    keep = ~plan.is_target
    return StackedModels(
        arch=models.arch,
        arch_params=models.arch_params,
        input_shape=models.input_shape,
        num_classes=models.num_classes,
        seeds=tuple(s for s, k in zip(models.seeds, keep, strict=True) if k),
        params={name: t[torch.from_numpy(keep)] for name, t in models.params.items()},
        privacy=models.privacy,
    )


def record_variant(*, prop_name: str, group: str, model_label: str, rate: float) -> str:
    """A property record's variant: ``<property>.<group>.<model label>.p<rate>``, the
    rate in ``%g`` form as in the models' file names (``sex.0.1-0.25.logreg.eps8.p0.05``)."""
    return ".".join((prop_name, group, model_label, f"p{rate:g}"))


def _grid(
    study: Mapping[str, Any], prop_name: str, model: Mapping[str, Any], rate: float
) -> dict[str, Any]:
    keys = ("train_size", "queries", "query_selection", "target_label")
    return {
        "property": prop_name,
        "model": model["variant"],
        "poison_rate": rate,
        "poison_count": poison_count(rate=rate, clean=study["train_size"]),
        **{key: study[key] for key in keys},
        "model_params": dict(model),
    }


def _spent(models: StackedModels) -> dict[str, float]:
    """The DP-SGD noise multiplier and the epsilon the accountant reports (none without DP)."""
    if models.privacy is None:
        return {}
    return {
        "accountant_epsilon": models.privacy["epsilon"],
        "noise_multiplier": models.privacy["noise_multiplier"],
    }


def _attack_inputs(
    *, files: Files, study: Mapping[str, Any], group: str
) -> tuple[Pool, PropertySides, study_lib.ModelPlan, list[float], np.ndarray]:
    """What every attack job of a group starts from: the pool, the sides, the plan, the
    group's poisoning rates (input ``models`` file i is rate i's) and the query rows."""
    configure_torch()
    data = Pool.load(files.input("pool"))
    row_sides = PropertySides.from_arrays(read_npz(files.input("sides")))
    plan = _plan(study, group)
    rates = poison_rates(study, group)
    models = files.input_list("models")
    clean = models[rates.index(0)] if 0 in rates else None
    queries = _queries(data=data, row_sides=row_sides, plan=plan, study=study, clean_models=clean)
    return data, row_sides, plan, rates, queries


def attack(*, job: Job, files: Files) -> None:
    """The two-world attack at every poisoning rate of a group: threshold from the shadows,
    accuracy (Clopper-Pearson 95% interval) on the targets, and their clean test accuracy.
    Input ``models`` file i and output i belong to poisoning rate i."""
    dataset, prop_name, group = (job.wildcard(k) for k in ("dataset", "property", "group"))
    study, model = job.setting("study"), job.row
    data, row_sides, plan, rates, queries = _attack_inputs(files=files, study=study, group=group)
    t0, t1 = float(plan.ratio.min()), float(plan.ratio.max())
    world = plan.ratio == t1
    target, shadow = plan.is_target, ~plan.is_target
    models, records_out = files.input_list("models"), files.output_list
    for rate, path, out in zip(rates, models, records_out, strict=True):
        stacked = load_models(path)
        scores = study_lib.query_scores(
            models=stacked, x=data.x[queries], target_label=study["target_label"]
        )
        rule = fit_threshold(scores=scores[shadow], world=world[shadow])
        correct = rule.predict(scores[target]) == world[target]
        low, high = metrics.clopper_pearson(successes=int(correct.sum()), trials=int(correct.size))
        accuracy = study_lib.clean_accuracy(
            models=stacked, x=data.x[row_sides.test], y=data.y[row_sides.test]
        )
        values = {
            "attack_accuracy": float(correct.mean()),
            "attack_accuracy_ci_low": low,
            "attack_accuracy_ci_high": high,
            "shadow_accuracy": float((rule.predict(scores[shadow]) == world[shadow]).mean()),
            "threshold": rule.threshold,
            "threshold_sign": rule.sign,
            "target_score_t0": float(scores[target & ~world].mean()),
            "target_score_t1": float(scores[target & world].mean()),
            "clean_test_accuracy": float(accuracy[target].mean()),
            "targets": int(target.sum()),
            "shadows": int(shadow.sum()),
            **_spent(stacked),
        }
        grid = {**_grid(study, prop_name, model, rate), "t0": t0, "t1": t1}
        label = variant_label(model["variant"], row_epsilon(model))
        MetricsRecord.build(
            study=STUDY,
            dataset=dataset,
            variant=record_variant(prop_name=prop_name, group=group, model_label=label, rate=rate),
            attack="threshold",
            grid=grid,
            seeds={"config": job.config_seed},
            metrics=values,
        ).write(out)


def attack_regression(*, job: Job, files: Files) -> None:
    """The ratio regression: isotonic map from score to ratio fitted on the shadows, mean
    absolute error of the estimated ratio on targets at ratios no shadow saw.
    Input ``models`` file i holds the group's models at ``poison_rates(study,
    "regression")[i]``."""
    study, model = job.setting("study"), job.row
    data, row_sides, plan, rates, queries = _attack_inputs(
        files=files, study=study, group=REGRESSION
    )
    rate = study[REGRESSION]["poison_rate"]
    stacked = load_models(files.input_list("models")[rates.index(rate)])
    scores = study_lib.query_scores(
        models=stacked, x=data.x[queries], target_label=study["target_label"]
    )
    target, shadow = plan.is_target, ~plan.is_target
    size = study["train_size"]
    actual = np.floor(plan.ratio * size + 0.5) / size  # the exact fraction sampled
    regressor = fit_ratio_regressor(scores=scores[shadow], ratios=actual[shadow])
    estimate = np.clip(regressor.predict(scores[target]), 0.0, 1.0)
    accuracy = study_lib.clean_accuracy(
        models=stacked, x=data.x[row_sides.test], y=data.y[row_sides.test]
    )
    values = {
        "mae": mean_absolute_error(predicted=estimate, actual=actual[target]),
        "clean_test_accuracy": float(accuracy[target].mean()),
        "targets": int(target.sum()),
        "shadows": int(shadow.sum()),
        "estimates": [
            [float(t), round(float(e), 6)] for t, e in zip(actual[target], estimate, strict=True)
        ],
    }
    prop_name = job.wildcard("property")
    MetricsRecord.build(
        study=STUDY,
        dataset=job.wildcard("dataset"),
        variant=record_variant(
            prop_name=prop_name, group=REGRESSION, model_label=model["variant"], rate=rate
        ),
        attack=REGRESSION,
        grid={**_grid(study, prop_name, model, rate), **study[REGRESSION]},
        seeds={"config": job.config_seed},
        metrics=values,
    ).write(files.output())
