"""Membership inference with shadow models (Shokri et al. 2017, S&P, section V)."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from leakbench.attacks.base import AttackInput, AttackResult, check_params, require, softmax
from leakbench.errors import ConfigError

ATTACK_MODELS = ("logreg", "mlp", "gbdt")
THRESHOLD = 0.5


def attack_model(name: str, *, seed: int) -> ClassifierMixin:
    """A fresh, seeded sklearn classifier for one class's in/out decision."""
    if name == "logreg":
        return LogisticRegression(max_iter=1000)
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=seed)
    if name == "gbdt":
        return HistGradientBoostingClassifier(random_state=seed)
    raise ConfigError(
        f"attack_params.shokri.attack_model: {name!r} is not allowed; allowed: "
        f"{', '.join(ATTACK_MODELS)}"
    )


def _fit(name: str, seed: int, features: np.ndarray, member: np.ndarray) -> ClassifierMixin:
    return attack_model(name, seed=seed).fit(features, member.astype(np.int64))


def shokri(inp: AttackInput, *, seed: int, **params: str) -> AttackResult:
    """Shokri et al.'s shadow-model attack, one attack model per class.

    Each shadow model was trained on its own records ("in") and not on as many others
    ("out"); the attack training set holds, for every such record, the shadow's prediction
    vector softmax(z) labelled in/out (section V-B). Because the output distribution
    depends heavily on the true class, the set is partitioned by the record's label and one
    binary attack model is trained per class (section V-C). A target record is scored by
    its class's model: score = P(in | softmax(z)); member iff score >= 0.5 (the attack
    model's own decision rule). The prediction vector is used as is, in class order, as in
    the paper.

    A class with no shadow records, or whose shadow records are all "in" or all "out",
    has nothing to learn from: its target records are scored by one model trained on all
    shadow records (a documented fallback, not in the paper).

    Args:
        inp: needs shadow_logits, shadow_labels and shadow_member.
        seed: seeds the attack models.
        **params: ``attack_model`` in ("logreg", "mlp", "gbdt"), default "mlp" (the
            paper's attack models are neural networks).
    """
    check_params("shokri", params, {"attack_model": ATTACK_MODELS})
    name = params.get("attack_model", "mlp")
    attack_model(name, seed=seed)  # validates the name before any fitting
    require(
        "shokri",
        shadow_logits=inp.shadow_logits,
        shadow_labels=inp.shadow_labels,
        shadow_member=inp.shadow_member,
    )
    shadow_x = softmax(inp.shadow_logits)
    shadow_y = np.asarray(inp.shadow_labels)
    shadow_in = np.asarray(inp.shadow_member, dtype=bool)
    target_x = softmax(inp.logits)
    labels = np.asarray(inp.labels)

    scores = np.empty(len(labels), dtype=np.float64)
    fallback = None
    for c in np.unique(labels):
        rows = labels == c
        mine = shadow_y == c
        if mine.any() and 0 < shadow_in[mine].sum() < mine.sum():
            model = _fit(name, seed, shadow_x[mine], shadow_in[mine])
        else:
            fallback = fallback or _fit(name, seed, shadow_x, shadow_in)
            model = fallback
        scores[rows] = model.predict_proba(target_x[rows])[:, 1]
    return AttackResult(scores=scores, predictions=scores >= THRESHOLD, threshold=THRESHOLD)
