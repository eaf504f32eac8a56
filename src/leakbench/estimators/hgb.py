"""``sklearn_hgb``: ``HistGradientBoostingClassifier``, stored as its trees' node arrays.

No pickle: a fitted model is its baseline and its trees, each tree the fields of
scikit-learn's predictor nodes that prediction reads (value, split feature and threshold,
where missing values go, children, leaf flag), concatenated tree after tree. The logits
are the baseline plus the leaf values of every tree, summed in scikit-learn's order
(``BaseHistGradientBoosting._raw_predict``: baseline, then iteration by iteration, class by
class), so their softmax is ``predict_proba``. A binary model's one raw column is the
logit of ``classes_[1]`` against 0 for ``classes_[0]`` (softmax([0, z]) = [1 - s(z),
s(z)]); a class absent from the training records gets the baseline
:data:`~leakbench.estimators.families.MISSING_LOGIT` and no trees. Categorical splits are
never made (the records are plain float arrays) and are refused if found.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from leakbench.errors import DataError
from leakbench.estimators.families import (
    MISSING_LOGIT,
    Family,
    Param,
    register_family,
)

NODE_FIELDS = {
    "value": ("value", np.float64),
    "feature": ("feature_idx", np.int64),
    "threshold": ("num_threshold", np.float64),
    "missing_left": ("missing_go_to_left", np.uint8),
    "left": ("left", np.int64),
    "right": ("right", np.int64),
    "is_leaf": ("is_leaf", np.uint8),
}
"""Stored array -> (field of sklearn's predictor node record, dtype)."""


def fit(
    *,
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    seed: int,
    max_iter: int,
    learning_rate: float,
    max_leaf_nodes: int,
    min_samples_leaf: int,
    l2_regularization: float,
) -> dict[str, np.ndarray]:
    """Fit ``HistGradientBoostingClassifier`` without early stopping (so no validation
    split is drawn) and with ``random_state=seed``; return its baseline and trees."""
    # Imported here: reading a model file or computing its logits needs no scikit-learn.
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=learning_rate,
        max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=min_samples_leaf,
        l2_regularization=l2_regularization,
        early_stopping=False,
        random_state=seed,
    ).fit(x, y)
    binary = len(model.classes_) == 2
    columns = model.classes_[1:] if binary else model.classes_
    baseline = np.full(num_classes, MISSING_LOGIT)
    if binary:
        baseline[model.classes_[0]] = 0.0
    baseline[columns] = np.asarray(model._baseline_prediction, dtype=np.float64).ravel()
    nodes, starts, classes = [], [0], []
    for iteration in model._predictors:
        for k, predictor in enumerate(iteration):
            if predictor.nodes["is_categorical"].any():
                raise DataError("sklearn_hgb: a categorical split is not allowed; allowed: none")
            nodes.append(predictor.nodes)
            starts.append(starts[-1] + len(predictor.nodes))
            classes.append(columns[k])
    allnodes = np.concatenate(nodes)
    arrays = {name: allnodes[field].astype(dtype) for name, (field, dtype) in NODE_FIELDS.items()}
    return {
        **arrays,
        "baseline": baseline,
        "tree_start": np.asarray(starts, dtype=np.int64),
        "tree_class": np.asarray(classes, dtype=np.int64),
    }


def tree_values(arrays: Mapping[str, np.ndarray], tree: int, x: np.ndarray) -> np.ndarray:
    """The leaf value tree ``tree`` gives each record of ``x``: from the root, a NaN
    feature goes where ``missing_left`` says, else left iff ``x[feature] <= threshold``
    (scikit-learn's ``_predict_from_raw_data`` for numerical splits)."""
    start = arrays["tree_start"][tree]
    node = np.full(len(x), start, dtype=np.int64)
    rows = np.arange(len(x))
    active = arrays["is_leaf"][node] == 0
    while active.any():
        at = node[active]
        value = x[rows[active], arrays["feature"][at]]
        left = np.where(
            np.isnan(value), arrays["missing_left"][at] == 1, value <= arrays["threshold"][at]
        )
        node[active] = start + np.where(left, arrays["left"][at], arrays["right"][at])
        active = arrays["is_leaf"][node] == 0
    return arrays["value"][node]


def logits(arrays: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Baseline plus every tree's leaf values, float64 ``[N, C]``."""
    out = np.zeros((len(x), len(arrays["baseline"])), dtype=np.float64)
    out += arrays["baseline"]
    for tree, cls in enumerate(arrays["tree_class"]):
        out[:, cls] += tree_values(arrays, tree, x)
    return out


FAMILY = register_family(
    Family(
        name="sklearn_hgb",
        description="scikit-learn HistGradientBoostingClassifier (no early stopping)",
        params={
            "max_iter": Param(default=100, kind="int", minimum=1),
            "learning_rate": Param(default=0.1, kind="float", minimum=0.0, exclusive=True),
            "max_leaf_nodes": Param(default=31, kind="int", minimum=2),
            "min_samples_leaf": Param(default=20, kind="int", minimum=1),
            "l2_regularization": Param(default=0.0, kind="float", minimum=0.0),
        },
        arrays=(*NODE_FIELDS, "baseline", "tree_start", "tree_class"),
        fit=fit,
        logits=logits,
    )
)
