"""Model families from scikit-learn (the black-box services of Shokri et al. 2017 stand
in): registry, seeded single-threaded training, logits and pickle-free model files."""

from leakbench.estimators import hgb, logreg
from leakbench.estimators.families import FAMILIES, family_params, get_family, is_family
from leakbench.estimators.fitted import FittedEstimators, estimator_logits, train_estimators
from leakbench.estimators.store import is_estimator_file, load_estimators, save_estimators

__all__ = [
    "FAMILIES",
    "FittedEstimators",
    "estimator_logits",
    "family_params",
    "get_family",
    "hgb",
    "is_estimator_file",
    "is_family",
    "load_estimators",
    "logreg",
    "save_estimators",
    "train_estimators",
]
