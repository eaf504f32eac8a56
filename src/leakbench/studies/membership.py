"""Membership study (Shokri et al. 2017): query the trained models, run one attack, record.

The steps between training and the table: :func:`query_models` collects every output an
attacker of the study may see (target outputs on the evaluated records, shadow outputs on
their own in/out records, target outputs on random noise, the target's mean training loss)
plus the target's accuracies; :func:`evaluate_attack` turns those outputs into an
:class:`~leakbench.attacks.base.AttackInput`, runs one attack, and scores it against the
ground truth that only the evaluator holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from leakbench import metrics
from leakbench.attacks import get_attack
from leakbench.attacks.base import AttackInput, AttackResult, cross_entropy, softmax
from leakbench.data.pool import Pool
from leakbench.seeding import derive_seed
from leakbench.studies.model_families import Models, logits_function, predict_logits
from leakbench.studies.shadow_data import ShadowRecords
from leakbench.studies.splits import MembershipSplits

STUDY = "membership"


def role_seeds(*, seed: int, dataset: str, variant: str, role: str, count: int) -> list[int]:
    """One seed per model of a role (target, shadow) of a membership grid row, from the
    config seed and the artifact's wildcards; DP variants and the canary target reuse them."""
    return [derive_seed(seed, STUDY, dataset, variant, role, k) for k in range(count)]


def noise_inputs(pool: Pool, *, count: int, seed: int) -> np.ndarray:
    """``count`` inputs drawn uniformly, per feature, between the pool's min and max."""
    lo, hi = pool.x.min(axis=0), pool.x.max(axis=0)
    rng = np.random.default_rng(seed)
    return (lo + (hi - lo) * rng.random((count, *pool.x.shape[1:]))).astype(np.float32)


def query_models(
    *,
    pool: Pool,
    splits: MembershipSplits,
    target: Models,
    shadows: Models,
    noise_queries: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Every model output the study's attacks and metrics need, as named arrays."""
    eval_index = np.flatnonzero(splits.target_in | splits.target_out)
    eval_logits = predict_logits(target, pool.x[eval_index])[0]
    eval_labels = pool.y[eval_index]
    eval_member = splits.target_in[eval_index]

    shadow_rows = np.flatnonzero((splits.shadow_in | splits.shadow_out).any(axis=0))
    shadow = shadow_outputs(
        logits=predict_logits(shadows, pool.x[shadow_rows]),
        labels=pool.y[shadow_rows],
        shadow_in=splits.shadow_in[:, shadow_rows],
        shadow_out=splits.shadow_out[:, shadow_rows],
    )
    noise_logits = predict_logits(target, noise_inputs(pool, count=noise_queries, seed=seed))[0]
    losses = cross_entropy(eval_logits, eval_labels)
    return {
        "eval_index": eval_index,
        "eval_logits": eval_logits,
        "eval_labels": eval_labels,
        "eval_member": eval_member,
        **shadow,
        "noise_logits": noise_logits,
        "train_loss": np.float64(losses[eval_member].mean()),
        "target_train_accuracy": np.float64(
            metrics.accuracy(logits=eval_logits[eval_member], labels=eval_labels[eval_member])
        ),
        "target_test_accuracy": np.float64(
            metrics.accuracy(logits=eval_logits[~eval_member], labels=eval_labels[~eval_member])
        ),
    }


def prediction_api(target: Models) -> Callable[[np.ndarray], np.ndarray]:
    """The black-box prediction API of a one-model target: records -> softmax of its
    logits (what the adversary of Shokri et al. 2017 sees, section III)."""

    logits = logits_function(target)

    def predict(records: np.ndarray) -> np.ndarray:
        return softmax(logits(records)[0])

    return predict


def shadow_outputs(
    *, logits: np.ndarray, labels: np.ndarray, shadow_in: np.ndarray, shadow_out: np.ndarray
) -> dict[str, np.ndarray]:
    """The attack-training rows of every shadow: shadow k's logits ``logits[k]`` on its own
    in- and out-records (masks ``[k, M]`` over the M queried records), with their labels
    and membership, shadow after shadow in record order."""
    rows, member = [], []
    for k in range(shadow_in.shape[0]):
        mine = np.flatnonzero(shadow_in[k] | shadow_out[k])
        rows.append((k, mine))
        member.append(shadow_in[k, mine])
    return {
        "shadow_logits": np.concatenate([logits[k, mine] for k, mine in rows]),
        "shadow_labels": np.concatenate([labels[mine] for _, mine in rows]),
        "shadow_member": np.concatenate(member),
    }


def query_shadow_records(
    *, outputs: Mapping[str, np.ndarray], records: ShadowRecords, shadows: Models
) -> dict[str, np.ndarray]:
    """The study outputs of a row with its shadows trained on generated records (Shokri et
    al. 2017, section V-C): the target's outputs of the row's real run, the shadows' rows
    on their generated records, and the generation's statistics (``stat.<name>``)."""
    shadow = shadow_outputs(
        logits=predict_logits(shadows, records.x),
        labels=records.y,
        shadow_in=records.shadow_in,
        shadow_out=records.shadow_out,
    )
    stats = {f"stat.{k}": np.float64(v) for k, v in records.stats.items()}
    return {**{k: v for k, v in outputs.items() if not k.startswith("stat.")}, **shadow, **stats}


def shadow_data_stats(outputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The shadow-data generation's statistics among the study outputs, by metric name
    (``shadow_data.<name>``: ``queries_per_record`` and ``acceptance_rate`` of model-based
    synthesis, ``changed_fraction`` of noisy data)."""
    return {f"shadow_data.{k[5:]}": float(v) for k, v in outputs.items() if k.startswith("stat.")}


def attack_input(outputs: Mapping[str, np.ndarray], *, needs_shadows: bool) -> AttackInput:
    """What the attacker sees: never the evaluated records' membership."""
    return AttackInput(
        logits=outputs["eval_logits"],
        labels=outputs["eval_labels"],
        shadow_logits=outputs["shadow_logits"] if needs_shadows else None,
        shadow_labels=outputs["shadow_labels"] if needs_shadows else None,
        shadow_member=outputs["shadow_member"] if needs_shadows else None,
        train_loss=float(outputs["train_loss"]),
        noise_logits=outputs["noise_logits"],
    )


def evaluate_attack(
    *, outputs: Mapping[str, np.ndarray], attack: str, params: Mapping[str, Any], seed: int
) -> tuple[AttackResult, dict[str, float]]:
    """Run ``attack`` on the study outputs; return its result and its metrics.

    The metrics are :func:`leakbench.metrics.membership_metrics` plus the target's train and
    test accuracy (their difference is the generalisation gap of Shokri et al. Fig. 11).
    """
    spec = get_attack(attack)
    result = spec.run(attack_input(outputs, needs_shadows=spec.needs_shadows), seed=seed, **params)
    scores = metrics.membership_metrics(
        scores=result.scores, predictions=result.predictions, member=outputs["eval_member"]
    )
    scores["threshold"] = float(result.threshold)
    scores["target_train_accuracy"] = float(outputs["target_train_accuracy"])
    scores["target_test_accuracy"] = float(outputs["target_test_accuracy"])
    return result, scores
