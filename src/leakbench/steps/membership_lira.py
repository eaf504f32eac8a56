"""File-level steps of the reference-model membership study
(:mod:`leakbench.studies.membership_lira`): split, train, query, attack (the aggregation
is :mod:`leakbench.steps.membership_lira_reporting`)."""

from __future__ import annotations

import numpy as np

from leakbench.attacks.reference import ReferenceSignals
from leakbench.data.pool import Pool
from leakbench.io import read_npz, write_npz, write_text
from leakbench.reporting.records import MetricsRecord
from leakbench.reporting.roc import roc_csv
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import membership_lira as study
from leakbench.studies.lira_splits import LiraSplit, make_lira_split, parts
from leakbench.training import TrainConfig, load_models, save_models, train_stacked

STUDY = study.STUDY
SIGNAL_PREFIX = "signal."


def _cell(job: Job) -> tuple[str, str]:
    return job.wildcard("dataset"), job.wildcard("variant")


def split(*, job: Job, files: Files) -> None:
    """Draw the cell's records, keep matrix and RMIA population, and save them."""
    dataset, variant = _cell(job)
    split_ = make_lira_split(
        n_pool=len(Pool.load(files.input("pool")).y),
        records=job.row["records"],
        models=job.row["models"],
        population=job.row["population"],
        seed=derive_seed(job.config_seed, STUDY, dataset, variant, "split"),
    )
    write_npz(files.output(), **split_.arrays())


def train(*, job: Job, files: Files) -> None:
    """Train one part of the cell's N models (``part`` wildcard) as one stacked job."""
    configure_torch()
    dataset, variant = _cell(job)
    data = Pool.load(files.input("pool"))
    split_ = LiraSplit.from_arrays(read_npz(files.input("split")))
    chosen = parts(models=job.row["models"], stack=job.row["stack"])[int(job.wildcard("part"))]
    models = train_stacked(
        arch=job.row["arch"],
        arch_params=job.row["arch_params"],
        x=data.x[split_.rows],
        y=data.y[split_.rows],
        num_classes=data.num_classes,
        keep=split_.keep[chosen.start : chosen.stop],
        seeds=study.model_seeds(
            seed=job.config_seed, dataset=dataset, variant=variant, models=chosen
        ),
        config=TrainConfig.from_row(job.row),
    )
    save_models(files.output(), models)


def query(*, job: Job, files: Files) -> None:
    """Every model's signals ``[N, n, Q]`` on the cell's records, and its plain logits."""
    configure_torch()
    data = Pool.load(files.input("pool"))
    split_ = LiraSplit.from_arrays(read_npz(files.input("split")))
    x, labels = data.x[split_.rows], data.y[split_.rows]
    specs = study.signal_specs(attacks=job.setting("attacks"), params=job.setting("attack_params"))
    signals: dict[str, list[np.ndarray]] = {key: [] for key in specs}
    logits = []
    for path in files.input_list("models"):
        part, plain = study.query_signals(
            models=load_models(path), x=x, labels=labels, queries=job.row["queries"], specs=specs
        )
        for key, values in part.items():
            signals[key].append(values)
        logits.append(plain)
    write_npz(
        files.output(),
        labels=labels,
        logits=np.concatenate(logits),
        **{SIGNAL_PREFIX + key: np.concatenate(values) for key, values in signals.items()},
    )


def attack(*, job: Job, files: Files) -> None:
    """Run one attack on every target and number of reference models of a cell; write
    its metrics record, the first target's scores and its ROC curve."""
    dataset, variant = _cell(job)
    name = job.wildcard("attack")
    params = dict(job.setting("attack_params").get(name, {}))
    arrays = read_npz(files.input("signals"))
    split_ = LiraSplit.from_arrays(read_npz(files.input("split")))
    data = ReferenceSignals(
        signals={
            key.removeprefix(SIGNAL_PREFIX): values
            for key, values in arrays.items()
            if key.startswith(SIGNAL_PREFIX)
        },
        keep=split_.keep,
        population=split_.population,
    )
    seed = derive_seed(job.config_seed, STUDY, dataset, variant, name)
    result = study.evaluate(
        attack=name,
        data=data,
        logits=arrays["logits"],
        labels=arrays["labels"],
        params=params,
        targets=job.row["targets"],
        references=study.references_of(job.row),
        seed=seed,
    )
    write_npz(files.output("scores"), score=result.scores, member=split_.keep[0])
    write_text(files.output("roc"), roc_csv(fpr=result.roc[0], tpr=result.roc[1]))
    summary = result.summary()
    largest = summary[str(max(result.by_count))]
    MetricsRecord.build(
        study=STUDY,
        dataset=dataset,
        variant=variant,
        attack=name,
        grid={**job.row, "attack_params": params},
        seeds={"config": job.config_seed, "attack": seed},
        metrics={
            "references": summary,
            "max_references": max(result.by_count),
            **{key: largest[f"{key}_mean"] for key in study.METRICS},
            "calibrated": {str(t): chosen for t, chosen in result.params.items()},
        },
    ).write(files.output("metrics"))
