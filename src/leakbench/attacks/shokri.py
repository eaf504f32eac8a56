"""Membership inference with shadow models, one attack model per class (Shokri et al. 2017)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from leakbench.attacks.base import AttackInput, AttackResult, check_params, require
from leakbench.errors import ConfigError

if TYPE_CHECKING:
    from sklearn.base import ClassifierMixin

PARAMS = ("attack_model",)
DEFAULT_ATTACK_MODEL = "mlp"
THRESHOLD = 0.5
"""An attack model's own decision rule: "in" iff P(in) >= 0.5."""

ATTACK_MODELS = ("gbdt", "logreg", "mlp")
"""The attack model families :func:`attack_model` builds."""


def attack_model(name: str, seed: int) -> ClassifierMixin:
    """A fresh, seeded binary in/out classifier of family ``name`` (one of
    :data:`ATTACK_MODELS`).

    Shokri et al. (section V) leave the attack model's family open; these are sklearn
    defaults except the MLP's width (one hidden layer of 64 ReLU units) and the iteration
    caps. ``logreg`` (lbfgs) draws no random numbers; ``mlp`` draws its initial weights and
    batch order from the seed; ``gbdt`` draws its validation split from it when early
    stopping switches on (above 10,000 rows). scikit-learn is imported here, not at module
    level: it costs a second of start-up that the jobs without a Shokri attack skip.
    """
    if name == "gbdt":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed)
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)
    if name == "mlp":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=seed)
    raise _unknown_model(name)


def _unknown_model(name: object) -> ConfigError:
    return ConfigError(
        f"attack_params.shokri.attack_model: {name!r} is not allowed; allowed: "
        f"{', '.join(ATTACK_MODELS)}"
    )


def _p_in(model: ClassifierMixin, features: np.ndarray) -> np.ndarray:
    """The model's P(in) for each row, as float64."""
    column = list(model.classes_).index(True)
    return np.asarray(model.predict_proba(features)[:, column], dtype=np.float64)


def run(inp: AttackInput, *, seed: int, **params: object) -> AttackResult:
    """Shokri et al. 2017, "Membership Inference Attacks against Machine Learning Models"
    (IEEE S&P), section V: shadow training, one attack model per class.

    Attack training set (section V): every shadow model was queried on the records
    it was trained on ("in") and on records it never saw ("out"); each such record gives
    one row (its true label y, the shadow's prediction vector softmax(z), in or out). The
    rows are partitioned by y and one binary attack model is trained per class, because
    the prediction vector's distribution depends heavily on the true class. A target
    record of class y is scored by the class-y model: score = P(in | softmax(z)); member
    iff score >= 0.5, the attack model's own decision threshold.

    Features: the full prediction vector softmax(z) in class order, as in the paper: not
    sorted (the per-class split already conditions on the label, and the class order keeps
    the true class's posterior apart from the others) and not log-transformed (the
    probabilities themselves, for every attack model family, to stay closest to the paper).

    Fallback (not in the paper): a class whose shadow rows are missing, or all "in", or
    all "out", gives its model nothing to learn; its target records are scored by one
    pooled model trained on all shadow rows of every class.

    Args:
        inp: needs ``shadow_logits``, ``shadow_labels`` and ``shadow_member``.
        seed: seeds every attack model (the same seed for each class's model).
        **params: ``attack_model``, one of :data:`ATTACK_MODELS` ("gbdt", "logreg",
            "mlp"), default "mlp".

    Returns:
        Scores P(in), predictions (score >= 0.5) and the threshold 0.5.

    Raises:
        ConfigError: on an unknown parameter or attack model, missing shadow outputs, or
            shadow rows that are all "in" or all "out".
    """
    check_params("shokri", params, PARAMS)
    name = params.get("attack_model", DEFAULT_ATTACK_MODEL)
    if not isinstance(name, str) or name not in ATTACK_MODELS:
        raise _unknown_model(name)
    require(
        "shokri",
        shadow_logits=inp.shadow_logits,
        shadow_labels=inp.shadow_labels,
        shadow_member=inp.shadow_member,
    )
    shadow_in = np.asarray(inp.shadow_member)
    if shadow_in.all() or not shadow_in.any():
        raise ConfigError(
            f"shadow_member: {int(shadow_in.sum())} 'in' rows of {shadow_in.size} is not "
            "allowed; allowed: at least one 'in' and one 'out' shadow row"
        )
    shadow_x = inp.posteriors(inp.shadow_logits)
    shadow_y = np.asarray(inp.shadow_labels)
    target_x = inp.posteriors(inp.logits)
    labels = np.asarray(inp.labels)

    scores = np.empty(labels.size, dtype=np.float64)
    pooled: ClassifierMixin | None = None
    for c in np.unique(labels):
        mine = shadow_y == c
        if 0 < shadow_in[mine].sum() < mine.sum():
            model = attack_model(name, seed).fit(shadow_x[mine], shadow_in[mine])
        else:
            if pooled is None:
                pooled = attack_model(name, seed).fit(shadow_x, shadow_in)
            model = pooled
        rows = labels == c
        scores[rows] = _p_in(model, target_x[rows])
    return AttackResult(scores=scores, predictions=scores >= THRESHOLD, threshold=THRESHOLD)
