"""Output defences (Shokri et al. 2017, section VIII): hand-computed prediction vectors,
config refusals, attacks on defended answers, the defence step and table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leakbench.attacks import AttackInput, get_attack
from leakbench.attacks.base import LOSS_FLOOR, softmax
from leakbench.attacks.defences import (
    OutputDefence,
    label_only,
    round_down,
    temperature,
    top_k,
)
from leakbench.errors import ConfigError
from leakbench.io import read_npz, write_npz
from leakbench.models import build_model
from leakbench.names import CellId
from leakbench.reporting.defences import defence_summary, defence_table, training_defence
from leakbench.reporting.records import MetricsRecord
from leakbench.steps import membership_defences
from leakbench.steps.context import Files, Job
from leakbench.studies import membership
from leakbench.studies.defences import evaluate_defences, parse_defences

P = np.array([[0.1, 0.5, 0.15, 0.25]])


# --- the defences on hand-computed vectors ---------------------------------------------------


def test_top_k_keeps_the_k_largest_without_renormalising():
    np.testing.assert_array_equal(top_k(P, k=2), [[0, 0.5, 0, 0.25]])
    np.testing.assert_array_equal(top_k(P, k=1), [[0, 0.5, 0, 0]])
    np.testing.assert_array_equal(top_k(P, k=4), P)
    # a tie goes to the lower class index
    np.testing.assert_array_equal(top_k(np.array([[0.4, 0.2, 0.4]]), k=1), [[0.4, 0, 0]])


def test_round_down_floors_to_d_decimals():
    np.testing.assert_allclose(round_down(np.array([[0.1234, 0.8766]]), d=2), [[0.12, 0.87]])
    np.testing.assert_allclose(round_down(np.array([[0.1234, 0.8766]]), d=1), [[0.1, 0.8]])
    np.testing.assert_allclose(round_down(np.array([[0.0004, 0.9996]]), d=3), [[0.0, 0.999]])
    # 0.3 is 0.29999999999999999 in binary; it stays 0.3, not 0.2
    np.testing.assert_allclose(round_down(np.array([[0.3, 0.7]]), d=1), [[0.3, 0.7]])
    np.testing.assert_array_equal(round_down(np.array([[0.4, 0.6]]), d=0), [[0, 0]])


def test_temperature_is_the_softmax_of_z_over_t():
    np.testing.assert_allclose(temperature(np.array([[0.0, math.log(4)]]), t=2), [[1 / 3, 2 / 3]])
    z = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(temperature(z, t=1), softmax(z))
    flat = temperature(z, t=20)
    assert flat.max() - flat.min() < softmax(z).max() - softmax(z).min()


def test_label_only_is_the_one_hot_argmax():
    np.testing.assert_array_equal(label_only(np.array([[0.2, 0.7, 0.1]])), [[0, 1, 0]])
    np.testing.assert_array_equal(label_only(np.array([[0.5, 0.5]])), [[1, 0]])


def test_output_defence_applies_to_logits_and_labels_itself():
    z = np.log(P)
    cases = {
        ("top_k", 1): ("top1", [[0, 0.5, 0, 0]]),
        ("round", 1): ("round1", [[0.1, 0.5, 0.1, 0.2]]),
        ("temperature", 1.0): ("temperature1", P),
        ("label_only", None): ("label_only", [[0, 1, 0, 0]]),
    }
    for (name, param), (label, expected) in cases.items():
        defence = OutputDefence(name, param)
        assert defence.label == label
        np.testing.assert_allclose(defence.apply(z), expected, atol=1e-12)
    assert OutputDefence("temperature", 2.5).label == "temperature2.5"


# --- config ----------------------------------------------------------------------------------


K_ALLOWED = r"; allowed: an integer 1 <= k <= 4"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"defence": "top_k", "k": 0}, r"d\.0\.k: 0 is not allowed" + K_ALLOWED),
        ({"defence": "top_k", "k": 5}, r"d\.0\.k: 5 is not allowed" + K_ALLOWED),
        ({"defence": "top_k", "k": None}, r"d\.0\.k: None is not allowed" + K_ALLOWED),
        ({"defence": "round", "d": -1}, r"d\.0\.d: -1 is not allowed; allowed: an integer d >= 0"),
        ({"defence": "round", "d": 1.5}, r"d\.0\.d: 1\.5 is not allowed"),
        ({"defence": "temperature", "t": 0}, r"d\.0\.t: 0 is not allowed; allowed: a finite"),
        ({"defence": "temperature", "t": -5}, r"d\.0\.t: -5 is not allowed"),
        (
            {"defence": "dp_noise"},
            r"d\.0\.defence: 'dp_noise' is not allowed; allowed: top_k, round, temperature, "
            r"label_only",
        ),
        ({"defence": "label_only", "k": 1}, r"d\.0\.k: 1 is not allowed for defence"),
    ],
)
def test_bad_defences_are_refused_naming_key_value_and_allowed(entry, message):
    with pytest.raises(ConfigError, match=message):
        parse_defences([entry], key="d", classes=4)


def test_parse_accepts_null_parameters_and_refuses_duplicates():
    parsed = parse_defences(
        [{"defence": "top_k", "k": 3, "d": None, "t": None}, {"defence": "label_only"}],
        key="d",
        classes=4,
    )
    assert [d.label for d in parsed] == ["top3", "label_only"]
    with pytest.raises(ConfigError, match=r"d\.1: 'round2' appears twice"):
        parse_defences([{"defence": "round", "d": 2}] * 2, key="d", classes=4)


def test_mlp_dropout_builds_dropout_layers_and_refuses_bad_rates():
    model = build_model("mlp", input_shape=(6,), num_classes=3, hidden=[8, 5], dropout=0.5)
    assert [type(m).__name__ for m in model].count("Dropout") == 2
    plain = build_model("mlp", input_shape=(6,), num_classes=3, hidden=[8, 5])
    assert "Dropout" not in [type(m).__name__ for m in plain]
    with pytest.raises(ConfigError, match=r"arch_params\.dropout: 1 is not allowed"):
        build_model("mlp", input_shape=(6,), num_classes=3, dropout=1)


# --- attacks on defended answers -------------------------------------------------------------


def _outputs(seed: int = 0, n: int = 400, classes: int = 4) -> dict[str, np.ndarray]:
    """Query outputs of a row whose members get a larger true-class logit."""
    rng = np.random.default_rng(seed)

    def logits(count):
        member = np.arange(count) % 2 == 0
        labels = rng.integers(0, classes, count)
        z = rng.normal(0.0, 1.0, (count, classes))
        z[np.arange(count), labels] += np.where(member, 4.0, 1.0) + rng.normal(0, 1, count)
        return z, labels, member

    z, y, m = logits(n)
    sz, sy, sm = logits(2 * n)
    return {
        "eval_logits": z,
        "eval_labels": y,
        "eval_member": m,
        "shadow_logits": sz,
        "shadow_labels": sy,
        "shadow_member": sm,
        "noise_logits": rng.normal(0.0, 1.0, (200, classes)),
        "train_loss": np.float64(0.3),
        "target_train_accuracy": np.float64(1.0),
        "target_test_accuracy": np.float64(0.5),
    }


def test_answers_are_read_as_given_and_their_loss_is_floored():
    answers = np.array([[0.0, 0.6], [0.5, 0.5]])
    inp = AttackInput(logits=answers, labels=np.array([0, 1]), probabilities=True)
    np.testing.assert_array_equal(inp.posteriors(answers), answers)
    np.testing.assert_allclose(
        inp.losses(answers, np.array([0, 1])), [-math.log(LOSS_FLOOR), math.log(2)]
    )
    with pytest.raises(ConfigError, match=r"logits: answers outside the probability simplex"):
        AttackInput(logits=np.array([[0.7, 0.6]]), labels=np.array([0]), probabilities=True)


def test_top_k_at_every_class_matches_the_undefended_attacks():
    """Keeping all C classes changes nothing: the attacks on the answers equal the
    attacks on the logits (the membership study's own path)."""
    outputs = _outputs()
    got = evaluate_defences(
        outputs=outputs,
        defences=[OutputDefence("top_k", 4)],
        attacks=["shokri", "confidence"],
        params={"shokri": {"attack_model": "logreg"}},
        seed_of=lambda defence, attack: 3,
    )["top4"]
    for attack, params in (("shokri", {"attack_model": "logreg"}), ("confidence", {})):
        _, plain = membership.evaluate_attack(outputs=outputs, attack=attack, params=params, seed=3)
        for key in ("precision", "recall", "auc"):
            assert got[attack][key] == pytest.approx(plain[key], abs=1e-9), (attack, key)
        assert got[attack]["target_test_accuracy"] == pytest.approx(
            float(np.mean(outputs["eval_logits"][1::2].argmax(1) == outputs["eval_labels"][1::2]))
        )


def test_label_only_leaves_the_confidence_attack_nothing_to_rank():
    got = evaluate_defences(
        outputs=_outputs(),
        defences=[OutputDefence("label_only"), OutputDefence("top_k", 1)],
        attacks=["confidence", "loss"],
        params={},
        seed_of=lambda defence, attack: 0,
    )
    assert got["label_only"]["confidence"]["auc"] == 0.5  # every answer's max is 1
    assert got["top1"]["confidence"]["auc"] > 0.8  # top-1 still reports the probability
    # label-only: the loss is 0 or -log(floor), i.e. correct or not
    assert 0.5 < got["label_only"]["loss"]["auc"] < got["top1"]["loss"]["auc"]


def test_defence_step_writes_one_record_for_every_defence_and_attack(tmp_path):
    write_npz(tmp_path / "outputs.npz", **_outputs(n=100))
    row = {"dataset": "purchase_synth", "variant": "tiny", "arch": "mlp",
           "defences": [{"defence": "top_k", "k": 1}, {"defence": "round", "d": 1}]}  # fmt: skip
    job = Job(
        rule="defend_membership",
        cell=CellId.of(("dataset", "variant"), ("purchase_synth", "tiny")),
        seed=7,
        row=row,
        settings={
            "attacks": ["confidence", "loss"],
            "attack_params": {"confidence": {"percentile": 50}},
            "defence_attack_params": None,
        },
    )
    out = tmp_path / "defences" / "metrics.json"
    files = Files(inputs={"outputs": (tmp_path / "outputs.npz",)}, output_list=(out,))
    membership_defences.defend(job=job, files=files)
    record = MetricsRecord.read(out)
    labels = ["none", "top1", "round1"]
    assert record.attack == "defences" and record.grid["defence_labels"] == labels
    assert set(record.metrics["top1"]) == {"confidence", "loss"}
    assert set(record.seeds) == {"config"} | {
        f"{d}.{a}" for d in labels for a in ("confidence", "loss")
    }
    # defence_attack_params null: the study's attack_params; the baseline is the plain API
    assert record.grid["attack_params"] == {"confidence": {"percentile": 50}}
    plain = membership.evaluate_attack(
        outputs=read_npz(tmp_path / "outputs.npz"),
        attack="confidence",
        params={"percentile": 50},
        seed=0,
    )[1]
    assert record.metrics["none"]["confidence"]["auc"] == pytest.approx(plain["auc"])
    first = out.read_bytes()
    membership_defences.defend(job=job, files=files)
    assert out.read_bytes() == first


# --- the table -------------------------------------------------------------------------------


def _record(variant: str, attack: str, metrics: dict, grid: dict | None = None) -> MetricsRecord:
    return MetricsRecord.build(
        study="membership",
        dataset="purchase_synth",
        variant=variant,
        attack=attack,
        grid=grid or {},
        seeds={"config": 1},
        metrics=metrics,
        provenance={"python": "3"},
        leakbench_version="0",
        git_commit="abc",
    )


def test_training_defence_labels():
    assert training_defence({"weight_decay": 0.0}) == "none"
    assert training_defence({"weight_decay": 0.001}) == "l2_0.001"
    assert training_defence({"weight_decay": 0, "arch_params": {"dropout": 0.5}}) == "dropout0.5"


def test_defence_table_sets_baseline_training_and_output_defences_side_by_side():
    m = {"precision": 0.9, "recall": 1.0, "auc": 0.95, "target_test_accuracy": 0.5}
    records = [
        _record("mlp128", "shokri", {**m, "precision": 0.7}, {"weight_decay": 0.0}),
        _record("mlp128+marginal", "shokri", m, {"weight_decay": 0.0}),  # not real shadows
        _record("mlp128_l2", "shokri", {**m, "precision": 0.6}, {"weight_decay": 0.01}),
    ]
    defences = [
        _record(
            "mlp128",
            "defences",
            {
                "none": {"shokri": m},
                "top1": {"shokri": {**m, "precision": 0.8}},
                "round2": {"shokri": m},
            },
            {"defence_labels": ["none", "top1", "round2"]},
        )
    ]
    table = defence_table(records=records, defences=defences)
    assert table[["variant", "defence", "attack"]].values.tolist() == [
        ["mlp128", "none", "shokri"],
        ["mlp128", "top1", "shokri"],
        ["mlp128", "round2", "shokri"],
        ["mlp128_l2", "l2_0.01", "shokri"],
    ]
    assert table["precision"].tolist() == [0.9, 0.8, 0.9, 0.6]
    # the row's own attack record (0.7, another attack model) gives way to the defence
    # job's baseline; a dataset without defences is not in the table
    assert defence_table(records=records, defences=[]).empty


def test_every_attack_reads_answers_through_the_input():
    """A registered attack given answers must not softmax them again."""
    answers = np.array([[0.0, 0.9], [0.3, 0.0]] * 10)
    labels = np.array([1, 0] * 10)
    member = np.array([True, False] * 10)
    inp = AttackInput(
        logits=answers,
        labels=labels,
        shadow_logits=answers,
        shadow_labels=labels,
        shadow_member=member,
        train_loss=0.5,
        noise_logits=np.array([[0.5, 0.0]]),
        probabilities=True,
    )
    confidence = get_attack("confidence").run(inp, seed=0)
    np.testing.assert_allclose(confidence.scores, [0.9, 0.3] * 10)
    loss = get_attack("loss").run(inp, seed=0)
    np.testing.assert_allclose(loss.scores, np.log([0.9, 0.3] * 10))


def test_defence_summary_puts_each_defence_beside_the_baseline():
    m = {"precision": 0.91234, "recall": 1.0, "auc": 0.95, "target_test_accuracy": 0.5}
    record = _record(
        "mlp128",
        "defences",
        {"none": {"shokri": m}, "top1": {"shokri": {**m, "precision": 0.8}}},
        {"defence_labels": ["none", "top1"]},
    )
    summary = defence_summary([record])
    assert summary[("purchase_synth", "mlp128")]["shokri"]["precision"] == {
        "none": 0.9123,
        "top1": 0.8,
    }


def test_dropout_rows_train_stacked_reproducibly_and_differ_from_no_dropout():
    """A training-defence row (arch_params.dropout) trains through the stacked trainer:
    two runs give identical predictions, and dropout changes the trained models."""
    from leakbench.training import TrainConfig, predict_logits, train_stacked

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 6)).astype(np.float32), rng.integers(0, 3, 64)
    config = TrainConfig.from_row(
        {"epochs": 2, "batch_size": 16, "lr": 0.01, "weight_decay": 0.0, "optimizer": "adam"}
    )

    def logits(dropout):
        models = train_stacked(
            arch="mlp",
            arch_params={"hidden": [8], "dropout": dropout},
            x=x,
            y=y,
            num_classes=3,
            keep=np.arange(128).reshape(2, 64) % 2 == 0,
            seeds=[1, 2],
            config=config,
        )
        return predict_logits(models, x)

    first = logits(0.5)
    np.testing.assert_array_equal(first, logits(0.5))
    assert not np.array_equal(first, logits(0.0))
