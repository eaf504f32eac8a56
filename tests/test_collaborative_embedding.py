"""Embedding-gradient leakage (Melis et al. 2019): the batch BoW from the embedding updates,
the membership rule on a hand-built batch, precision and recall, the vocabulary defence,
the study row and bad input."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import torch

from leakbench.collaborative.embedding import (
    bag_of_words,
    infer_members,
    precision_recall,
    restrict_vocabulary,
    revealed_words,
    update_words,
)
from leakbench.collaborative.embedding_trial import embedding_name
from leakbench.collaborative.simulate import participant_updates
from leakbench.config import check_names, load_schema, read_yaml, validate_schema
from leakbench.data.text_synth import generate_checkins
from leakbench.errors import ConfigError
from leakbench.models import build_model
from leakbench.studies.collaborative_embedding import check_model, check_row, run_row


def test_bag_of_words_and_the_subset_rule_on_a_hand_built_batch():
    vocab = 8
    # Two observed batches: the words of records (0, 1, 2) and of records (3, 4).
    batch_a = np.array([[0, 1, 2], [1, 3, 3], [0, 0, 2]])
    batch_b = np.array([[4, 5, 5], [5, 6, 4]])
    batches = np.stack([bag_of_words(b, vocab=vocab).any(axis=0) for b in (batch_a, batch_b)])
    assert batches.nonzero()[1].tolist() == [0, 1, 2, 3, 4, 5, 6]
    candidates = np.array(
        [
            [0, 1, 2],  # member of batch a
            [4, 5, 5],  # member of batch b
            [3, 2, 1],  # not trained, but its words {1, 2, 3} are all in batch a: false positive
            [2, 4, 4],  # {2, 4}: split over two batches, in neither alone: rejected
            [7, 0, 1],  # word 7 was never observed: rejected
        ]
    )
    bags = bag_of_words(candidates, vocab=vocab)
    assert bags[2].nonzero()[0].tolist() == [1, 2, 3]
    predicted = infer_members(records=bags, batches=batches)
    assert predicted.tolist() == [True, True, True, False, False]
    member = np.array([True, True, False, False, False])
    # TP = 2, FP = 1, FN = 0: precision 2 / 3, recall 1.
    assert precision_recall(predicted=predicted, member=member) == (2 / 3, 1.0)
    # Nothing flagged: precision 0, recall 0.
    assert precision_recall(predicted=np.zeros(5, bool), member=member) == (0.0, 0.0)
    with pytest.raises(ConfigError, match="member: no member is not allowed"):
        precision_recall(predicted=predicted, member=np.zeros(5, bool))


def test_revealed_words_are_the_rows_the_others_changed_exactly():
    before = torch.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]])
    own = torch.tensor([[1e-3, 0.0], [0.0, 0.0], [3e-4, 7e-5], [0.0, 0.0]])  # words 0 and 2
    others = torch.tensor([[0.0, 0.0], [2e-4, 0.0], [0.0, 1e-3], [0.0, 0.0]])  # words 1 and 2
    after = before + (own + others)
    assert revealed_words(before=before, after=after, own=own, own_weight=1.0).tolist() == [
        False,
        True,
        True,
        False,
    ]
    # The naive rule (non-zero rows of (θ_t - θ_{t-1}) - Δθ^adv) would flag word 0 through
    # rounding in float32 at these values; the exact comparison does not.
    naive = ((after - before) - own != 0).any(dim=1)
    assert naive[0]
    with pytest.raises(ConfigError, match="embedding: shapes"):
        revealed_words(before=before, after=after[:2], own=own, own_weight=1.0)


def test_the_embedding_gradient_of_a_real_model_is_the_batch_bag_of_words():
    torch.manual_seed(0)
    model = build_model(
        "textcnn", input_shape=(5,), num_classes=2, vocab=12, embed_dim=4, filters=16,
        widths=(1, 2), dropout=0.0,
    )  # fmt: skip
    name = embedding_name(model)
    assert name == "embedding.weight"
    tokens = torch.tensor(
        [[[[0, 1, 2, 3, 4], [1, 1, 2, 2, 5]]], [[[6, 7, 7, 8, 9], [9, 9, 9, 6, 6]]]]
    )
    labels = torch.tensor([[[0, 1]], [[1, 0]]])
    params = {k: p.detach() for k, p in model.named_parameters()}
    updates = participant_updates(model=model, params=params, x=tokens, y=labels, lr=0.1)
    adversary = update_words({name: updates[name][0]}, name=name)
    assert adversary.nonzero()[0].tolist() == [0, 1, 2, 3, 4, 5]
    after = params[name] + (updates[name][0] + updates[name][1])
    seen = revealed_words(before=params[name], after=after, own=updates[name][0], own_weight=1.0)
    assert seen.nonzero()[0].tolist() == [6, 7, 8, 9]


def test_restricting_the_vocabulary_merges_the_rare_words():
    tokens = torch.tensor([[0, 3, 4, 9], [1, 2, 5, 4]])
    assert restrict_vocabulary(tokens, vocab=4).tolist() == [[0, 3, 3, 3], [1, 2, 3, 3]]
    assert restrict_vocabulary(tokens, vocab=2).tolist() == [[0, 1, 1, 1], [1, 1, 1, 1]]
    with pytest.raises(ConfigError, match="vocab_sizes: 1 is not allowed; allowed: >= 2"):
        restrict_vocabulary(tokens, vocab=1)


ROW = {
    "dataset": "checkin_synth", "variant": "v", "arch": "textcnn",
    "arch_params": {"embed_dim": 4, "filters": 32, "dropout": 0.0}, "property": "planted",
    "records": 900, "rounds": 12, "batch_sizes": [4, 16], "vocab_sizes": [2000, 50],
    "defence_batch_size": 4, "lr": 0.1,
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"property": "topic"}, "k.property: unknown value 'topic'; allowed: planted"),
        ({"vocab_sizes": [100, 1]}, "k.vocab_sizes: 1 is not allowed; allowed: 2 .. 2000"),
        ({"vocab_sizes": [2001]}, "k.vocab_sizes: 2001 is not allowed; allowed: 2 .. 2000"),
        ({"batch_sizes": [8, 301]}, "k.batch_sizes: 301 is not allowed with 900 records (a "
                                    "third each for the target, the adversary and the "
                                    "held-out set); allowed: 1 .. 300"),
        ({"defence_batch_size": 400}, "k.batch_sizes: 400 is not allowed with 900 records"),
        ({"arch_params": {"vocab": 10}}, "k.arch_params.vocab: 10 is not allowed; allowed: no "
                                         "vocab"),
    ],
)  # fmt: skip
def test_bad_rows_are_refused_with_key_value_and_allowed(change, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_row({**ROW, **change}, key="k", properties=("planted",), vocabulary=2000)


def test_a_data_set_without_tokens_or_a_model_without_embedding_is_refused():
    with pytest.raises(ConfigError, match=r"k\.dataset: 'checkin_synth' is not allowed; allowed: "
                                          r"a data set of token ids"):  # fmt: skip
        check_row(ROW, key="k", properties=("planted",), vocabulary=0)
    with pytest.raises(
        ConfigError, match=r"k\.arch_params\.dropout: 0\.5 is not allowed; allowed: 0"
    ):
        check_model({**ROW, "arch_params": {"dropout": 0.5}}, key="k", input_shape=(16,),
                    num_classes=2)  # fmt: skip
    with pytest.raises(ConfigError, match=r"k\.arch_params\.vocab: not a parameter of arch 'mlp'"):
        check_model({**ROW, "arch": "mlp", "arch_params": {}}, key="k", input_shape=(16,),
                    num_classes=2)  # fmt: skip
    with pytest.raises(ConfigError, match="arch: Linear is not allowed; allowed: a model with an "
                                          "embedding layer"):  # fmt: skip
        embedding_name(torch.nn.Linear(2, 2))


@pytest.fixture(scope="module")
def pool():
    return generate_checkins(seed=3, n_records=1200)


def test_data_that_do_not_fit_the_row_are_refused_before_training(pool):
    nothing = copy.deepcopy(pool)
    nothing.properties["planted"][:] = False
    with pytest.raises(ConfigError, match=re.escape("k.property: 'planted' matches no record")):
        run_row(pool=nothing, vocabulary=2000, row=ROW, seed=1, key="k")
    few = {**ROW, "batch_sizes": [100]}  # a third of 900 records holds ~60 property records
    with pytest.raises(ConfigError, match=r"k\.batch_size: 100 is not allowed with \d+ "
                                          r"target_prop records"):  # fmt: skip
        run_row(pool=pool, vocabulary=2000, row=few, seed=1, key="k")
    with pytest.raises(ConfigError, match=r"k\.vocab_sizes: 2001 is not allowed"):
        run_row(pool=pool, vocabulary=2000, row={**ROW, "vocab_sizes": [2001]}, seed=1, key="k")


def test_the_row_reveals_members_and_the_property_and_reruns_identically(pool):
    first = run_row(pool=pool, vocabulary=2000, row=ROW, seed=5, key="k")
    again = run_row(pool=pool, vocabulary=2000, row=ROW, seed=5, key="k")
    assert first == again
    assert set(first["batch"]) == {"4", "16"} and set(first["vocab"]) == {"2000", "50"}
    small, large = first["batch"]["4"], first["batch"]["16"]
    assert small["members"] == 4 * 12  # 12 batches of 4 from ~90 and ~210 records: none twice
    assert 4 * 12 < large["members"] <= 16 * 12  # the ~60 property records come round again
    assert small["recall"] >= 0.9 and large["recall"] >= 0.9
    assert small["precision"] >= large["precision"]  # larger batches: more false positives
    assert first["vocab"]["2000"] == small  # the same run, reused
    assert first["vocab"]["50"]["precision"] < small["precision"]  # the defence
    assert small["property_auc"] > 0.8  # the planted words show in the batch BoW


def test_config_validation_refuses_a_bad_row_before_any_job(repo_root):
    schema = load_schema(repo_root / "workflow/schemas/config.schema.yaml")
    config = read_yaml(repo_root / "config/test.yaml")
    section = config["collaborative_embedding"]["grid"][0]
    section["vocab_sizes"] = [1]
    with pytest.raises(ConfigError, match=r"collaborative_embedding\.grid\.0\.vocab_sizes: 1 is "):
        check_names(validate_schema(copy.deepcopy(config), schema))
    section["vocab_sizes"] = [100]
    section["batch_sizes"] = [1000]
    with pytest.raises(ConfigError, match=r"collaborative_embedding\.grid\.0\.batch_sizes: 1000"):
        check_names(validate_schema(copy.deepcopy(config), schema))
    section["batch_sizes"] = [4]
    section["dataset"] = "adult"
    with pytest.raises(ConfigError, match=r"collaborative_embedding\.grid\.0\.(dataset|arch)"):
        check_names(validate_schema(copy.deepcopy(config), schema))
