"""Token inputs in the collaborative studies (Melis et al. 2019, Section V, the text CNN):
the embedding's update on a hand-built batch, how it enters the attack's features, the
records' dtype, bad input refused before training, and small passive and gradient-sharing
runs on token ids."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from leakbench.collaborative import defended, property_inference
from leakbench.collaborative.features import update_features
from leakbench.collaborative.simulate import participant_updates
from leakbench.config import check_names, load_schema, read_yaml, validate_schema
from leakbench.data.pool import Pool
from leakbench.data.text_synth import generate_checkins
from leakbench.errors import ConfigError
from leakbench.models.text import TextCNN
from leakbench.studies import collaborative, collaborative_defences
from leakbench.studies.collaborative_tokens import check_ids, check_tokens, records

BATCH = torch.tensor([[1, 4, 7, 4], [7, 1, 1, 4]])  # words 1, 4 and 7 of a vocabulary of 10


def _textcnn() -> TextCNN:
    torch.manual_seed(0)
    # One window as wide as the record: max over time takes the one position, so every
    # token of the batch reaches the loss.
    return TextCNN(vocab=10, embed_dim=3, filters=4, widths=(4,), dropout=0.0, num_classes=2)


def _update() -> dict[str, torch.Tensor]:
    model = _textcnn()
    params = {k: v.detach() for k, v in model.named_parameters()}
    updates = participant_updates(
        model=model, params=params, x=BATCH[None, None], y=torch.tensor([[[0, 1]]]), lr=0.5
    )
    return {k: v[0] for k, v in updates.items()}


def test_only_the_batch_words_rows_of_the_embedding_update_are_non_zero():
    embedding = _update()["embedding.weight"]
    assert embedding.shape == (10, 3)
    changed = torch.nonzero(embedding.abs().sum(dim=1)).flatten().tolist()
    assert changed == [1, 4, 7]  # the batch's words, and no other row


def test_the_embedding_enters_the_features_as_pooled_blocks_of_consecutive_rows():
    update = _update()
    # Weight tensors in order: embedding [10, 3] (30 values), conv [4, 3, 4] (48), linear
    # [2, 4] (8); the biases are left out. max_features 8: windows of ceil(30 / 8) = 4
    # values -> 8 embedding features, ceil(48 / 8) = 6 -> 8 conv features, 8 linear values.
    features = update_features(update, max_features=8)
    assert features.shape == (8 + 8 + 8,)
    embedding = features[:8]
    # Row r holds flat values 3r .. 3r + 2: rows 1, 4, 7 fall in windows {0, 1}, {3}, {5}.
    assert np.flatnonzero(embedding).tolist() == [0, 1, 3, 5]
    flat = update["embedding.weight"].abs().flatten()
    assert embedding[3] == float(flat[12:16].max())  # window 3: values 12 .. 15 (row 4, 5)
    assert features[16:].tolist() == update["linear.weight"].abs().flatten().double().tolist()


def test_token_models_read_int64_ids_and_other_models_the_float_records():
    x = np.array([[3.0, 1999.0], [0.0, 7.0]], dtype=np.float32)
    tokens = records(x, arch="textcnn")
    assert tokens.dtype == torch.int64 and tokens.tolist() == [[3, 1999], [0, 7]]
    floats = records(x, arch="mlp")
    assert floats.dtype == torch.float32 and torch.equal(floats, torch.from_numpy(x))


ROW = {
    "dataset": "checkin_synth", "variant": "t", "arch": "textcnn",
    "arch_params": {"vocab": 2000, "embed_dim": 4, "filters": 4, "dropout": 0.0},
    "algorithm": "sync_sgd", "participants": [2], "task": "label", "property": "planted",
    "property_class": 0, "records": 300, "rounds": 6, "batch_size": 8, "local_steps": 1,
    "lr": 0.1, "trees": 10, "max_features": 64, "fractions": [1.0], "window": None,
    "join_round": None, "whole_run_trials": 0, "test_records": 50,
}  # fmt: skip
SHARING = {
    **{k: ROW[k] for k in ("dataset", "arch", "arch_params", "task", "property",
                           "property_class", "rounds", "batch_size", "lr", "trees",
                           "max_features")},
    "variant": "sharing", "sweep": "share_fraction", "values": [0.1, 1], "records": 300,
    "test_records": 50, "property_share": 1.0,
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "vocabulary", "message"),
    [
        ({"dataset": "mnist5k"}, 0,
         "k.dataset: 'mnist5k' is not allowed with arch 'textcnn'; allowed: a data set of "
         "token ids"),
        ({"arch_params": {"vocab": 100}}, 2000,
         "k.arch_params.vocab: 100 is not allowed with 'checkin_synth'; allowed: an integer "
         ">= 2000 (the data's vocabulary)"),
        ({"arch_params": {"embed_dim": 4}}, 2000, "k.arch_params.vocab: None is not allowed"),
    ],
)  # fmt: skip
def test_a_token_model_that_does_not_fit_its_data_is_refused(change, vocabulary, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_tokens({**ROW, **change}, key="k", vocabulary=vocabulary)
    with pytest.raises(ConfigError, match=re.escape(message)):
        collaborative.check_row(
            {**ROW, **change}, key="k", num_classes=2, properties=("planted",),
            vocabulary=vocabulary,
        )  # fmt: skip
    check_tokens({**ROW, **change, "arch": "mlp"}, key="k", vocabulary=vocabulary)  # no tokens


def test_token_ids_outside_the_vocabulary_are_refused():
    x = np.array([[0.0, 5.0], [2000.0, 1.0]], dtype=np.float32)
    with pytest.raises(
        ConfigError,
        match=re.escape("k.arch_params.vocab: 2000 is not allowed for token ids 0 .. 2000; "
                        "allowed: >= 2001"),
    ):  # fmt: skip
        check_ids(x, ROW, key="k")
    check_ids(x[:1], ROW, key="k")


def _token_pool(*, planted: bool = True) -> Pool:
    pool = generate_checkins(seed=3, n_records=400)
    if planted:
        return pool
    nothing = {"planted": np.zeros(len(pool), dtype=bool)}
    return Pool(x=pool.x, y=pool.y, properties=nothing, feature_names=pool.feature_names,
                num_classes=pool.num_classes)  # fmt: skip


def _no_training(*args, **kwargs):
    raise AssertionError("training started")


def test_a_token_property_that_matches_no_record_is_refused_before_training(monkeypatch):
    monkeypatch.setattr(property_inference, "participant_updates", _no_training)
    monkeypatch.setattr(defended, "participant_updates", _no_training)
    message = re.escape("k.property: 'planted' matches no record is not allowed")
    with pytest.raises(ConfigError, match=message):
        collaborative.run_row(pool=_token_pool(planted=False), row=ROW, seed=1, key="k")
    with pytest.raises(ConfigError, match=message):
        collaborative_defences.run_row(
            pool=_token_pool(planted=False), row=SHARING, seed=1, key="k"
        )


def test_the_passive_attack_runs_on_token_ids_and_reruns_identically():
    first = collaborative.run_row(pool=_token_pool(), row=ROW, seed=5, key="k")
    assert first == collaborative.run_row(pool=_token_pool(), row=ROW, seed=5, key="k")
    assert list(first["auc"]) == ["2"] and 0 <= first["single_batch_auc"] <= 1
    assert 0 <= first["runs"][0]["accuracy"] <= 1


def test_gradient_sharing_runs_on_token_ids_with_a_headless_passive_adversary():
    first = collaborative_defences.run_row(pool=_token_pool(), row=SHARING, seed=5, key="k")
    assert first == collaborative_defences.run_row(pool=_token_pool(), row=SHARING, seed=5, key="k")
    assert list(first["auc"]) == ["0.1", "1"]
    for name in ("0.1", "1"):
        assert 0 <= first["auc"][name] <= 1 and 0 <= first["accuracy"][name] <= 1
    # The text CNN carries no property head: the active attack is refused, naming the key.
    active = {**SHARING, "sweep": "alpha", "values": [0.5]}
    with pytest.raises(ConfigError, match=re.escape("k.arch: TextCNN is not allowed for the")):
        collaborative_defences.run_row(pool=_token_pool(), row=active, seed=5, key="k")


def test_config_validation_refuses_a_text_cnn_on_records_that_are_not_token_ids(repo_root):
    schema = load_schema(repo_root / "workflow/schemas/config.schema.yaml")
    config = read_yaml(repo_root / "config/config.yaml")
    rows = config["collaborative"]["grid"]
    i = next(i for i, row in enumerate(rows) if row["arch"] == "textcnn")
    rows[i]["dataset"] = "adult"  # float records of one dimension: the model builds
    with pytest.raises(
        ConfigError,
        match=re.escape(f"collaborative.grid.{i}.dataset: 'adult' is not allowed with arch"),
    ):
        check_names(validate_schema(config, schema))
    rows[i]["dataset"] = "mnist5k"  # images: the model does not build
    with pytest.raises(ConfigError, match=re.escape(f"collaborative.grid.{i}.input_shape")):
        check_names(validate_schema(config, schema))


def test_config_validation_refuses_the_active_attack_on_a_text_cnn(repo_root):
    schema = load_schema(repo_root / "workflow/schemas/config.schema.yaml")
    config = read_yaml(repo_root / "config/config.yaml")
    rows = config["collaborative_defences"]["grid"]
    i = next(i for i, row in enumerate(rows) if row["arch"] == "textcnn")
    rows[i].update(sweep="alpha", values=[0, 0.5])
    with pytest.raises(
        ConfigError,
        match=re.escape(
            f"collaborative_defences.grid.{i}.arch: TextCNN is not allowed for the active "
            "attack; allowed: an architecture that is an nn.Sequential ending in nn.Linear"
        ),
    ):
        check_names(validate_schema(config, schema))
    rows[i].update(values=[0])  # passive only: no head needed
    check_names(validate_schema(config, schema))
