"""File-level step of the membership study's output defences (see
:mod:`leakbench.studies.defences`): one job per grid row evaluates all its defences."""

from __future__ import annotations

from leakbench.attacks.defences import NONE
from leakbench.io import read_npz
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies.defences import evaluate_defences, parse_defences

STUDY = "membership"
RECORD = "defences"
"""The ``attack`` name of a row's defence record (its metrics: defence -> attack -> metric)."""


def defend(*, job: Job, files: Files) -> None:
    """Run every configured attack behind the undefended API and every output defence of a
    grid row on the row's query outputs (input ``outputs``, real shadows, no DP), with the
    ``defence_attack_params`` setting (None: ``attack_params``); write one metrics record
    (metrics: defence label -> attack -> metric; the grid's ``defence_labels`` keep the
    config order, which the record's sorted JSON keys lose)."""
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    outputs = read_npz(files.input("outputs"))
    defences = parse_defences(
        job.row["defences"],
        key=f"membership.grid[{dataset}/{variant}].defences",
        classes=outputs["eval_logits"].shape[1],
    )
    seeds: dict[str, int] = {"config": job.config_seed}

    def seed_of(defence: str, attack: str) -> int:
        seeds[f"{defence}.{attack}"] = derive_seed(
            job.config_seed, STUDY, dataset, variant, RECORD, defence, attack
        )
        return seeds[f"{defence}.{attack}"]

    attack_params = job.setting("defence_attack_params")
    if attack_params is None:
        attack_params = job.setting("attack_params")
    results = evaluate_defences(
        outputs=outputs,
        defences=defences,
        attacks=job.setting("attacks"),
        params=attack_params,
        seed_of=seed_of,
    )
    MetricsRecord.build(
        study=STUDY,
        dataset=dataset,
        variant=variant,
        attack=RECORD,
        grid={
            **job.row,
            "attack_params": dict(attack_params),
            "defence_labels": [NONE, *(d.label for d in defences)],
        },
        seeds=seeds,
        metrics=results,
    ).write(files.output())
