"""scikit-learn model families: seeded single-threaded training, logits equal to
``predict_proba``, pickle-free model files, and config refusals."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import yaml
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from leakbench.attacks.base import softmax
from leakbench.config import load_config, read_yaml
from leakbench.errors import ConfigError, DataError, UnknownNameError
from leakbench.estimators import (
    estimator_logits,
    family_params,
    is_estimator_file,
    load_estimators,
    save_estimators,
    train_estimators,
)
from leakbench.estimators.families import MISSING_LOGIT
from leakbench.studies.model_families import load_models, predict_logits, save_models

FAMILIES = [("sklearn_logreg", {"C": 10.0}), ("sklearn_hgb", {"max_iter": 4})]
REFERENCE = {
    "sklearn_logreg": lambda seed: LogisticRegression(C=10.0, random_state=seed),
    "sklearn_hgb": lambda seed: HistGradientBoostingClassifier(
        max_iter=4, early_stopping=False, random_state=seed
    ),
}


def _data(classes: int, n: int = 240, d: int = 12):
    rng = np.random.default_rng(3)
    x = (rng.random((n, d)) < 0.5).astype(np.float32)
    y = (x[:, : max(1, classes - 1)].sum(axis=1).astype(int) + rng.integers(0, 2, n)) % classes
    keep = np.zeros((2, n), dtype=bool)
    keep[0, : n // 2] = True
    keep[1, n // 2 :] = True
    return x, y, keep


@pytest.mark.parametrize(("family", "params"), FAMILIES)
@pytest.mark.parametrize("classes", [2, 4])
def test_logits_give_sklearns_probabilities(family, params, classes):
    x, y, keep = _data(classes)
    models = train_estimators(
        family=family, params=params, x=x, y=y, num_classes=classes, keep=keep, seeds=[5, 6]
    )
    logits = estimator_logits(models)(x)
    assert logits.shape == (2, len(x), classes) and logits.dtype == np.float32
    probs = softmax(logits[1])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    rows = keep[1]
    reference = REFERENCE[family](6).fit(x[rows].astype(np.float64), y[rows])
    np.testing.assert_allclose(probs, reference.predict_proba(x.astype(np.float64)), atol=1e-5)


@pytest.mark.parametrize(("family", "params"), FAMILIES)
def test_a_class_absent_from_training_gets_probability_zero(family, params):
    x, y, keep = _data(3)
    y[y == 2] = 1  # class 2 never seen; the dataset has 3 classes
    models = train_estimators(
        family=family, params=params, x=x, y=y, num_classes=3, keep=keep, seeds=[1, 2]
    )
    logits = estimator_logits(models)(x)
    assert np.all(np.isfinite(logits)) and np.all(softmax(logits[0])[:, 2] == 0)
    assert logits[0, :, 2].max() <= MISSING_LOGIT / 2


@pytest.mark.parametrize(("family", "params"), FAMILIES)
def test_seeded_rerun_and_round_trip_are_byte_identical(tmp_path, family, params):
    x, y, keep = _data(4)
    paths = []
    for run in range(2):
        models = train_estimators(
            family=family, params=params, x=x, y=y, num_classes=4, keep=keep, seeds=[8, 9]
        )
        paths.append(tmp_path / f"{run}.safetensors")
        save_models(paths[-1], models)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert is_estimator_file(paths[0])
    loaded = load_models(paths[0])
    assert loaded.family == family and loaded.seeds == (8, 9) and loaded.num_classes == 4
    assert loaded.params == family_params(family, params)  # defaults filled and kept
    np.testing.assert_array_equal(predict_logits(loaded, x), estimator_logits(models)(x))
    save_estimators(tmp_path / "again.safetensors", loaded)
    assert (tmp_path / "again.safetensors").read_bytes() == paths[0].read_bytes()


def test_model_files_that_are_not_ours_are_refused_without_unpickling(tmp_path):
    x, y, keep = _data(2)
    models = train_estimators(
        family="sklearn_logreg", params={}, x=x, y=y, num_classes=2, keep=keep, seeds=[1, 2]
    )
    good = tmp_path / "good.safetensors"
    save_estimators(good, models)
    bad = tmp_path / "bad.safetensors"
    for data in (pickle.dumps(models), good.read_bytes()[:100]):
        bad.write_bytes(data)
        assert not is_estimator_file(bad)
        with pytest.raises(DataError, match="not a readable leakbench model file"):
            load_estimators(bad)
        with pytest.raises(DataError, match="not a readable leakbench checkpoint"):
            load_models(bad)  # falls through to the torch reader, which refuses it too


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        (
            "sklearn_logreg",
            {"C": 0},
            r"arch_params\.C: 0 is not allowed; allowed: a finite number > 0",
        ),
        ("sklearn_logreg", {"C": True}, r"arch_params\.C: True is not allowed"),
        (
            "sklearn_hgb",
            {"max_iter": 2.5},
            r"arch_params\.max_iter: 2\.5 is not allowed; allowed: an integer >= 1",
        ),
        (
            "sklearn_hgb",
            {"depth": 3},
            r"arch_params\.depth: not a parameter of arch 'sklearn_hgb'; allowed: max_iter",
        ),
    ],
)
def test_bad_family_params_name_key_value_and_allowed(family, params, message):
    with pytest.raises(ConfigError, match=message):
        family_params(family, params)


@pytest.fixture()
def config(repo_root):
    return read_yaml(repo_root / "config/test.yaml")


def _load(tmp_path, repo_root, config):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_config(path, repo_root / "workflow/schemas/config.schema.yaml")


def _sklearn_row(config):
    rows = config["membership"]["grid"]
    return next(i for i, row in enumerate(rows) if row["arch"].startswith("sklearn_"))


def test_config_refuses_bad_sklearn_params_and_unknown_arch(tmp_path, repo_root, config):
    i = _sklearn_row(config)
    bad = copy.deepcopy(config)
    bad["membership"]["grid"][i]["arch_params"] = {"C": -1}
    with pytest.raises(ConfigError, match=rf"membership\.grid\.{i}\.arch_params\.C: -1 is not"):
        _load(tmp_path, repo_root, bad)
    bad["membership"]["grid"][i]["arch"] = "sklearn_svm"
    with pytest.raises(UnknownNameError, match=r"allowed: .*sklearn_hgb, sklearn_logreg"):
        _load(tmp_path, repo_root, bad)


def test_config_refuses_dp_cells_on_sklearn_rows(tmp_path, repo_root, config):
    i = _sklearn_row(config)
    row = config["membership"]["grid"][i]
    cell = f"{row['dataset']}/{row['variant']}"
    bad = copy.deepcopy(config)
    bad["privacy"]["cells"]["membership"] = [cell]
    with pytest.raises(
        ConfigError,
        match=rf"privacy\.cells\.membership: '{cell}' is not allowed; allowed: "
        r"purchase_synth/tiny, adult/logreg$",
    ):
        _load(tmp_path, repo_root, bad)
    every = copy.deepcopy(config)
    every["privacy"]["cells"]["membership"] = None  # null: every row that can take DP
    from leakbench.studies.dp_axis import dp_cells

    cells = [str(c) for c in dp_cells(_load(tmp_path, repo_root, every), "membership")]
    assert cell not in cells and "purchase_synth/tiny" in cells
