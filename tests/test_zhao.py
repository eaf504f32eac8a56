"""Zhao et al. 2019: Hamming distances, r-neighbours, AUC by distance, mRMR, approximate
attribute inference, the split and the study's refusal of bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from leakbench.attacks.attribute_inference import (
    completions,
    infer,
    mrmr,
    redundancy,
    relevance,
)
from leakbench.attacks.strong_membership import (
    auc_by_distance,
    flip_neighbours,
    nearest_distances,
)
from leakbench.config import load_config, read_yaml
from leakbench.data.registry import DATASETS
from leakbench.errors import ConfigError, DataError
from leakbench.studies.zhao import check_study, make_split

# Four classes; f0 = "class >= 2", f1 = a copy of f0, f2 = "class is odd", f3 constant.
CLASSES = np.array([0, 0, 1, 1, 2, 2, 3, 3])
F0 = (CLASSES >= 2).astype(np.float32)
HAND = np.stack([F0, F0, (CLASSES % 2).astype(np.float32), np.zeros(8, np.float32)], axis=1)


def test_mutual_information_on_hand_counts():
    # I(f; c) = H(f) - H(f | c) = 1 - 0 bit for f0, f1, f2 (each a function of c, balanced);
    # the constant f3 carries none. I(f0; f1) = 1 bit (copies), I(f0; f2) = 0 (independent).
    np.testing.assert_allclose(relevance(x=HAND, y=CLASSES, num_classes=4), [1, 1, 1, 0])
    np.testing.assert_allclose(redundancy(x=HAND, feature=0), [1, 1, 0, 0])
    # p(f=1, c=1) = 3/8 from a hand-made 2 x 2 table: I = sum p log2(p / (p_a p_b)).
    y = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    x = np.array([[0], [0], [1], [1], [1], [1], [0], [1]], np.float32)
    cells = {(0, 0): 2, (1, 0): 1, (0, 1): 1, (1, 1): 4}
    px, py = {0: 3 / 8, 1: 5 / 8}, {0: 3 / 8, 1: 5 / 8}
    expected = sum(n / 8 * np.log2((n / 8) / (px[a] * py[c])) for (a, c), n in cells.items())
    np.testing.assert_allclose(relevance(x=x, y=y, num_classes=2), [expected])


def test_mrmr_prefers_the_relevant_feature_that_is_not_redundant():
    # Step 1: relevance ties 1 = 1 = 1, the lowest index f0 wins. Step 2: f1 scores
    # 1 - I(f1; f0) = 0, f2 scores 1 - 0 = 1, f3 0 - 0 = 0: f2. Step 3: f1 scores
    # 1 - (1 + 0) / 2 = 0.5, f3 scores 0: f1; then f3.
    order = mrmr(x=HAND, y=CLASSES, num_classes=4, count=4)
    assert order.tolist() == [0, 2, 1, 3]
    # Ranking by relevance alone would take the redundant copy f1 second.
    assert np.argsort(-relevance(x=HAND, y=CLASSES, num_classes=4), kind="stable")[1] == 1
    with pytest.raises(ConfigError, match=r"zhao.unknown: 5 is not allowed; allowed: 1 .. 4"):
        mrmr(x=HAND, y=CLASSES, num_classes=4, count=5)


def test_nearest_distances_by_hand():
    members = np.array([[0, 0, 0, 0], [1, 1, 0, 0]])
    queries = np.array([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1], [0, 0, 1, 1]])
    assert nearest_distances(queries=queries, members=members, chunk=3).tolist() == [0, 1, 2, 2]


def test_neighbours_are_at_distance_r_distinct_and_never_members():
    rng = np.random.default_rng(0)
    members = (rng.random((30, 40)) < 0.3).astype(np.float32)
    member_keys = {row.tobytes() for row in members.astype(bool)}
    for r in (1, 3, 17, 39):
        near = flip_neighbours(members=members, r=r, per_member=5, rng=rng)
        assert near.shape == (30, 5, 40)
        for i in range(30):
            flipped = (near[i] != members[i].astype(bool)).sum(axis=1)
            assert flipped.tolist() == [r] * 5
            keys = {row.tobytes() for row in near[i]}
            assert len(keys) == 5 and not keys & member_keys


def test_neighbours_drop_collisions_with_members():
    # 000000's six 1-neighbours include the member 100000: exactly the other five remain.
    members = np.array([[0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]], np.float32)
    near = flip_neighbours(members=members, r=1, per_member=5, rng=np.random.default_rng(1))
    got = {tuple(row.astype(int)) for row in near[0]}
    assert got == {tuple(np.eye(6, dtype=int)[j]) for j in range(1, 6)}
    with pytest.raises(DataError, match="fewer than 6 distinct non-member neighbours"):
        flip_neighbours(
            members=members, r=1, per_member=6, rng=np.random.default_rng(1), max_rounds=20
        )
    with pytest.raises(ConfigError, match=r"zhao.flips: 0 is not allowed; allowed: 1 .. 6"):
        flip_neighbours(members=members, r=0, per_member=5, rng=np.random.default_rng(1))


def test_auc_by_distance_by_hand():
    # Members score 0.9 and 0.5. Bin [0, 2): non-members 0.7 (distance 1) and 0.95
    # (distance 0): pairs won 1 + 0 + 0 + 0 ... member 0.9 beats 0.7, loses to 0.95;
    # member 0.5 loses both: AUC 1/4. Bin [2, 4): non-member 0.1 (distance 3): AUC 1.
    bins = auc_by_distance(
        member_scores=np.array([0.9, 0.5]),
        other_scores=np.array([0.7, 0.95, 0.1]),
        other_distances=np.array([1, 0, 3]),
        width=2,
    )
    assert [(b.low, b.high, b.count, b.auc) for b in bins] == [(0, 2, 2, 0.25), (2, 4, 1, 1.0)]


def test_completions_enumerate_every_vector_once():
    table = completions(3)
    assert table.shape == (8, 3)
    assert table[5].tolist() == [1, 0, 1]
    assert len({tuple(row) for row in table}) == 8


def test_attribute_inference_on_hand_built_models():
    # The known features 1 and 2 tell the three records apart: (0, 1), (1, 0), (1, 1).
    records = np.array([[1, 0, 1, 1, 0, 0], [0, 1, 0, 0, 1, 0], [1, 1, 1, 1, 1, 1]], np.float32)
    unknown = np.array([0, 3, 4, 5])
    truth = records[:, unknown]

    def peaked_at(target):
        # Confidence falls with the Hamming distance of the unknown part to ``target``.
        def confidence(x):
            owner = (2 * x[:, 1] + x[:, 2] - 1).astype(int)
            return 1.0 - 0.1 * np.abs(x[:, unknown] - target[owner]).sum(axis=1)

        return confidence

    exact = infer(records=records, unknown=unknown, confidence=peaked_at(truth), batch_rows=20)
    assert exact.tolist() == [0.0, 0.0, 0.0]
    opposite = infer(records=records, unknown=unknown, confidence=peaked_at(1 - truth))
    assert opposite.tolist() == [4.0, 4.0, 4.0]
    # A constant model ties every completion: the mean distance over all 16 is m'/2 = 2.
    flat = infer(records=records, unknown=unknown, confidence=lambda x: np.ones(len(x)))
    assert flat.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(DataError, match="repeats a feature"):
        infer(records=records, unknown=np.array([1, 1]), confidence=lambda x: np.ones(len(x)))


ROW = {
    "dataset": "purchase_synth",
    "variant": "v",
    "records": 100,
    "train_fraction": 0.8,
    "eval_records": 10,
}


def test_split_is_disjoint_sized_and_seeded():
    a, b = make_split(n_pool=500, row=ROW, seed=3), make_split(n_pool=500, row=ROW, seed=3)
    assert len(a.train) == 80 and len(a.test) == 20
    assert not set(a.train) & set(a.test)
    assert set(a.members) <= set(a.train) and set(a.others) <= set(a.test)
    assert len(a.members) == len(a.others) == 10
    for key, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[key])
    with pytest.raises(ConfigError, match=r"zhao\.grid\.records: 100 is not allowed; allowed: at"):
        make_split(n_pool=50, row=ROW, seed=3)


STUDY = {
    "flips": [1, 4],
    "neighbours": 5,
    "bin_width": 10,
    "unknown": 4,
    "attribute_targets": 5,
    "grid": [ROW],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unknown": 601}, "zhao.unknown: 601 is not allowed; allowed: 1 .. 24 (600 features"),
        ({"flips": [0]}, "zhao.flips: 0 is not allowed; allowed: 1 .. 600"),
        ({"flips": [601]}, "zhao.flips: 601 is not allowed; allowed: 1 .. 600"),
        ({"attribute_targets": 11}, "zhao.attribute_targets: 11 is not allowed; allowed: at most"),
        ({"row": {"dataset": "imagenet"}}, "zhao.grid.0.dataset: unknown value 'imagenet'"),
        ({"row": {"dataset": "adult"}}, "zhao.grid.0.dataset: 'adult' is not allowed; allowed: a"),
        ({"row": {"eval_records": 21}}, "zhao.grid.0.eval_records: 21 is not allowed; allowed: at"),
    ],
)
def test_bad_study_input_names_key_value_and_allowed(change, message):
    study = copy.deepcopy(STUDY)
    study["grid"][0].update(change.pop("row", {}))
    study.update(change)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        check_study(study=study, datasets=DATASETS)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("unknown", 700, "zhao.unknown: 700 is not allowed; allowed: 1 .. 24 (600 features"),
        ("flips", [0, 4], "zhao.flips.0: 0 is less than the minimum of 1"),
        (
            "grid",
            [{"dataset": "imagenet", "variant": "v", "arch": "mlp"}],
            "zhao.grid.0.dataset: unknown value 'imagenet'; allowed: adult",
        ),
    ],
)
def test_bad_config_is_refused_at_validation(repo_root, tmp_path, key, value, message):
    config = read_yaml(repo_root / "config/test.yaml")
    config["zhao"][key] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as err:
        load_config(path, repo_root / "workflow/schemas/config.schema.yaml")
    assert message in str(err.value)
