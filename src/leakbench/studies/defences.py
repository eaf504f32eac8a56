"""Output defences in the membership study (Shokri et al. 2017, section VIII): every
configured defence of a grid row applied to the row's query outputs, and the attacks run
on the defended answers.

A defence post-processes every answer of the prediction API, so one set of trained models
serves all of them: the target's answers on the evaluated records and on the noise
queries, and the shadow models' answers on their own records (the adversary knows the API
and defends its shadows alike). The loss attack's mean training loss (Yeom et al.'s
assumption) is the mean cross-entropy of the defended answers on the target's members.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from leakbench import metrics
from leakbench.attacks import get_attack
from leakbench.attacks.base import AttackInput, answer_losses
from leakbench.attacks.defences import NONE, OutputDefence
from leakbench.errors import ConfigError

METRICS = ("precision", "recall", "auc", "balanced_accuracy", "tpr_at_fpr_0.01")
"""The attack metrics kept for each (defence, attack)."""


def parse_defences(
    entries: Sequence[Mapping[str, object]], *, key: str, classes: int
) -> list[OutputDefence]:
    """The row's ``defences`` entries, checked (:meth:`OutputDefence.parse`); two entries
    with the same label are refused.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    parsed = [
        OutputDefence.parse(entry, key=f"{key}.{i}", classes=classes)
        for i, entry in enumerate(entries)
    ]
    labels = [d.label for d in parsed]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            raise ConfigError(f"{key}.{i}: {label!r} appears twice; allowed: each defence once")
    return parsed


def defended_input(
    outputs: Mapping[str, np.ndarray], defence: OutputDefence, *, needs_shadows: bool
) -> AttackInput:
    """What the attacker sees behind ``defence``: the defended answers of the target (on
    the evaluated records and the noise queries) and of the shadows."""
    answers = defence.apply(outputs["eval_logits"])
    labels = outputs["eval_labels"]
    member = outputs["eval_member"]
    return AttackInput(
        logits=answers,
        labels=labels,
        shadow_logits=defence.apply(outputs["shadow_logits"]) if needs_shadows else None,
        shadow_labels=outputs["shadow_labels"] if needs_shadows else None,
        shadow_member=outputs["shadow_member"] if needs_shadows else None,
        train_loss=float(answer_losses(answers[member], labels[member]).mean()),
        noise_logits=defence.apply(outputs["noise_logits"]),
        probabilities=True,
    )


def evaluate_defences(
    *,
    outputs: Mapping[str, np.ndarray],
    defences: Sequence[OutputDefence],
    attacks: Sequence[str],
    params: Mapping[str, Mapping[str, Any]],
    seed_of: Callable[[str, str], int],
) -> dict[str, dict[str, dict[str, float]]]:
    """``{defence label: {attack: metrics}}`` for the undefended API (``none``, the
    baseline with the same attack parameters) and every defence, and every attack, on one
    row's query outputs; the metrics are :data:`METRICS` of
    :func:`leakbench.metrics.membership_metrics` plus the target's test accuracy on its
    defended answers (argmax, ties to the lower class: what the defence costs; rounding
    down can tie every class at 0). ``seed_of(defence label, attack)`` seeds an attack."""
    member = np.asarray(outputs["eval_member"])
    labels = outputs["eval_labels"]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for defence in [OutputDefence(NONE), *defences]:
        cell = out.setdefault(defence.label, {})
        for attack in attacks:
            spec = get_attack(attack)
            inp = defended_input(outputs, defence, needs_shadows=spec.needs_shadows)
            result = spec.run(inp, seed=seed_of(defence.label, attack), **params.get(attack, {}))
            scores = metrics.membership_metrics(
                scores=result.scores, predictions=result.predictions, member=member
            )
            cell[attack] = {key: scores[key] for key in METRICS}
            cell[attack]["target_test_accuracy"] = metrics.accuracy(
                logits=inp.logits[~member], labels=labels[~member]
            )
    return out
