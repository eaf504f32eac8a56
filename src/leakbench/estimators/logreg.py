"""``sklearn_logreg``: L2-regularised (multinomial) logistic regression, stored as arrays.

The artifact of one model is its weights: ``coef [C, D]`` and ``intercept [C]`` over every
class of the dataset, so the logits are ``x coef^T + intercept`` and their softmax is
``LogisticRegression.predict_proba``. A binary fit (one weight row, for ``classes_[1]``
against ``classes_[0]``) becomes the rows ``0`` and ``w``: softmax([0, z]) = [1 - s(z),
s(z)], sklearn's probabilities. A class absent from the training records gets a zero row
and the intercept :data:`~leakbench.estimators.families.MISSING_LOGIT`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from leakbench.estimators.families import (
    MISSING_LOGIT,
    Family,
    Param,
    full_class_rows,
    register_family,
)


def fit(
    *, x: np.ndarray, y: np.ndarray, num_classes: int, seed: int, C: float, max_iter: int
) -> dict[str, np.ndarray]:
    """Fit ``LogisticRegression(C, max_iter)`` (lbfgs, L2 penalty 1 / (2 C) ||w||^2 against
    the summed log-loss) on ``(x, y)``; ``seed`` is its ``random_state`` (lbfgs draws
    nothing)."""
    # Imported here: reading a model file or computing its logits needs no scikit-learn.
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed).fit(x, y)
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    full = full_class_rows(
        rows=np.column_stack([coef, intercept]),
        classes=model.classes_,
        num_classes=num_classes,
        fill=0.0,
    )
    missing = np.setdiff1d(np.arange(num_classes), model.classes_)
    full[missing, -1] = MISSING_LOGIT
    return {"coef": full[:, :-1].copy(), "intercept": full[:, -1].copy()}


def logits(arrays: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """``x coef^T + intercept``, float64 ``[N, C]``."""
    return x @ arrays["coef"].T + arrays["intercept"]


FAMILY = register_family(
    Family(
        name="sklearn_logreg",
        description="scikit-learn LogisticRegression (lbfgs, L2 with strength 1/C)",
        params={
            "C": Param(default=1.0, kind="float", minimum=0.0, exclusive=True),
            "max_iter": Param(default=100, kind="int", minimum=1),
        },
        arrays=("coef", "intercept"),
        fit=fit,
        logits=logits,
    )
)
