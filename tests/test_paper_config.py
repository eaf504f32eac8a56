"""The paper-scale rows of config/paper.yaml for Melis et al. (LFW) and Song et al. (CIFAR-10
ResNet): they validate, reach the trainer as written, and bad values are refused with the
key and the allowed values."""

from __future__ import annotations

import copy

import pytest
import yaml

from leakbench.config import load_config, read_yaml
from leakbench.data.registry import get_dataset
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.models import build_model
from leakbench.training import TrainConfig


@pytest.fixture()
def schema(repo_root):
    return repo_root / "workflow/schemas/config.schema.yaml"


@pytest.fixture()
def paper(repo_root):
    return read_yaml(repo_root / "config/paper.yaml")


def _load(tmp_path, schema, config):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_config(path, schema)


def test_song_resnet_row_carries_the_released_recipe_into_the_trainer(tmp_path, schema, paper):
    (row,) = _load(tmp_path, schema, paper)["memorisation"]["grid"]
    assert (row["dataset"], row["arch"], row["arch_params"]) == (
        "cifar10",
        "resnet20",
        {"blocks": 5},
    )
    config = TrainConfig.from_row(row)
    assert (config.optimizer, config.lr, config.momentum) == ("sgd", 0.1, 0.9)
    assert (config.epochs, config.batch_size, config.weight_decay) == (100, 128, 2.0e-4)
    assert config.schedule == "cosine" and config.augment == ("flip", "crop")
    # 50,000 training images and 10,000 test images of CIFAR-10's 60,000.
    assert round(row["records"] * row["train_fraction"]) == 50_000
    # Song et al. Table 1: 0.46M parameters; ResNet-32 (n = 5) with GroupNorm has He et
    # al.'s count (GroupNorm's scale and shift replace BatchNorm's).
    model = build_model("resnet20", input_shape=(3, 32, 32), num_classes=10, blocks=5)
    assert sum(p.numel() for p in model.parameters()) == 464_154
    assert any(type(m).__name__ == "GroupNorm" for m in model.modules())
    assert not any("BatchNorm" in type(m).__name__ for m in model.modules())


def test_melis_lfw_rows_use_the_paper_net_and_table_iii_properties(tmp_path, schema, paper):
    grid = _load(tmp_path, schema, paper)["collaborative"]["grid"]
    rows = {r["variant"]: r for r in grid if r["dataset"] == "lfw"}
    assert sorted(rows) == [
        "fedavg",
        "gender-asian",
        "gender-black",
        "gender-eyeglasses",
        "gender-sunglasses",
    ]
    spec = get_dataset("lfw")
    for row in rows.values():
        assert row["arch_params"] == {"channels": [32, 64, 128]}
        assert (row["batch_size"], row["lr"], row["task"]) == (32, 0.01, "label")
        assert row["property"] in spec.properties
    assert rows["gender-black"]["participants"] == [2, 4, 8, 12, 16, 24, 30]
    assert rows["gender-black"]["rounds"] == 3000
    assert (rows["fedavg"]["participants"], rows["fedavg"]["local_steps"]) == ([3, 5], 10)


@pytest.mark.parametrize(
    ("study", "change", "error", "message"),
    [
        (
            "memorisation",
            {"momentum": 1.0},
            ConfigError,
            r"memorisation\.grid\.0\.momentum: 1\.0 is greater than or equal to the maximum",
        ),
        (
            "memorisation",
            {"schedule": "step"},
            ConfigError,
            r"memorisation\.grid\.0\.schedule: 'step' is not one of \['constant', 'cosine'\]",
        ),
        (
            "memorisation",
            {"augment": ["rotate"]},
            ConfigError,
            r"memorisation\.grid\.0\.augment\.0: 'rotate' is not one of \['flip', 'crop'\]",
        ),
        (
            "memorisation",
            {"optimizer": "adam"},
            ConfigError,
            r"memorisation\.grid\.0\.momentum: 0\.9 is not allowed; allowed: .* 0 with adam",
        ),
        (
            "collaborative",
            {"property": "glasses"},
            UnknownNameError,
            r"collaborative\.grid\.0\.property: unknown value 'glasses'; allowed: asian, black, "
            r"class, eyeglasses, smiling, sunglasses, white",
        ),
        (
            "collaborative",
            {"participants": [2, 500]},
            ConfigError,
            r"collaborative\.grid\.0\.participants: 500 is not allowed with 13143 records at 32 "
            r"per round; allowed: 2 \.\. 410",
        ),
    ],
    ids=["momentum", "schedule", "augment", "momentum-adam", "lfw-property", "participants"],
)
def test_bad_paper_rows_are_refused_naming_key_and_allowed(
    tmp_path, schema, paper, study, change, error, message
):
    bad = copy.deepcopy(paper)
    bad[study]["grid"][0].update(change)
    with pytest.raises(error, match=message):
        _load(tmp_path, schema, bad)
