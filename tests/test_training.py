"""The stacked trainer, its sequential reference, prediction, checkpoints and the device."""

from __future__ import annotations

import functools
import hashlib
import os
import pickle

import numpy as np
import pytest
import torch
from conftest import ARCHS, CLASSES, random_data
from safetensors import safe_open
from safetensors.torch import save

from leakbench.errors import ConfigError, DataError, UnknownNameError
from leakbench.privacy import DPConfig
from leakbench.training import (
    DEVICE_ENV,
    StackedModels,
    TrainConfig,
    load_models,
    predict_logits,
    resolve_device,
    save_models,
    seeded_model,
    train_sequential,
    train_stacked,
)
from leakbench.training.optim import cosine_factor, make_optimizer, make_schedule, model_rates
from leakbench.training.samplers import RaggedEpochSampler
from leakbench.training.stacked_net import cross_entropy_grad

pytestmark = pytest.mark.usefixtures("deterministic_torch")
_data = functools.partial(random_data, n=45)


def _keep(n, count, members, seed=1):
    rng = np.random.default_rng(seed)
    keep = np.zeros((count, n), dtype=bool)
    for row in keep:
        row[rng.choice(n, members, replace=False)] = True
    return keep


def _train(trainer, arch, *, x, y, keep, seeds=None, config=None):
    params, _ = ARCHS[arch]
    return trainer(
        arch=arch,
        arch_params=params,
        x=x,
        y=y,
        num_classes=CLASSES,
        keep=keep,
        seeds=seeds if seeds is not None else [11 + k for k in range(len(keep))],
        config=config or TrainConfig(epochs=3, batch_size=8, lr=0.05),
    )


# -- TrainConfig ------------------------------------------------------------------------


def test_train_config_defaults():
    config = TrainConfig(epochs=2, batch_size=32, lr=1e-3)
    assert (config.weight_decay, config.optimizer) == (0.0, "adam")
    assert (config.momentum, config.schedule) == (0.0, "constant")


def test_train_config_from_row_takes_momentum_and_schedule_where_given():
    row = {"epochs": 1, "batch_size": 4, "lr": 0.1, "weight_decay": 0.0, "optimizer": "sgd"}
    assert TrainConfig.from_row(row).momentum == 0.0
    config = TrainConfig.from_row(row | {"momentum": 0.9, "schedule": "cosine"})
    assert (config.momentum, config.schedule) == (0.9, "cosine")


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("epochs", 0, "an integer >= 1"),
        ("epochs", 1.5, "an integer >= 1"),
        ("batch_size", 0, "an integer >= 1"),
        ("batch_size", True, "an integer >= 1"),
        ("lr", 0.0, "a finite number > 0"),
        ("lr", float("nan"), "a finite number > 0"),
        ("weight_decay", -0.1, "a finite number >= 0"),
        ("optimizer", "rmsprop", "adam, sgd"),
        ("momentum", 1.0, "a number in [0, 1) with optimizer sgd; 0 with adam"),
        ("momentum", -0.1, "a number in [0, 1) with optimizer sgd; 0 with adam"),
        ("schedule", "step", "constant, cosine"),
    ],
)
def test_train_config_errors_name_key_value_and_allowed(key, value, allowed):
    fields = {"epochs": 1, "batch_size": 4, "lr": 0.1, "optimizer": "sgd"} | {key: value}
    with pytest.raises(ConfigError) as err:
        TrainConfig(**fields)
    assert str(err.value) == f"{key}: {value!r} is not allowed; allowed: {allowed}"


# -- stacked == sequential --------------------------------------------------------------


@pytest.mark.parametrize("arch", sorted(ARCHS))
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_stacked_equals_sequential(arch, optimizer):
    params, shape = ARCHS[arch]
    x, y = _data(shape)
    keep = _keep(len(y), 3, 21)  # 21 members, batch 8: the last batch of each epoch has 5
    config = TrainConfig(epochs=3, batch_size=8, lr=0.05, weight_decay=0.01, optimizer=optimizer)
    stacked = _train(train_stacked, arch, x=x, y=y, keep=keep, config=config)
    sequential = _train(train_sequential, arch, x=x, y=y, keep=keep, config=config)
    assert stacked.params.keys() == sequential.params.keys()
    for name, p in stacked.params.items():
        assert p.shape == sequential.params[name].shape
        torch.testing.assert_close(p, sequential.params[name], rtol=1e-5, atol=1e-5)
    initial = seeded_model(
        arch=arch, arch_params=params, input_shape=shape, num_classes=CLASSES, seed=12
    )
    moved = max(
        (stacked.model(1).get_parameter(n) - p).abs().max() for n, p in initial.named_parameters()
    )
    assert moved > 1e-3  # training happened
    logits = predict_logits(stacked, x, batch_size=16)
    np.testing.assert_allclose(logits, predict_logits(sequential, x), rtol=1e-4, atol=1e-5)


def _ragged_keep(n):
    """Rows of 9, 21 and 14 records over n: with batch 8, 2, 3 and 2 steps an epoch."""
    keep = np.zeros((3, n), dtype=bool)
    for row, members, seed in zip(keep, (9, 21, 14), (1, 2, 3), strict=True):
        row[np.random.default_rng(seed).choice(n, members, replace=False)] = True
    return keep


@pytest.mark.parametrize("arch", sorted(ARCHS))
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_unequal_counts_stacked_equals_sequential(arch, optimizer):
    _, shape = ARCHS[arch]
    x, y = _data(shape)
    keep = _ragged_keep(len(y))
    config = TrainConfig(epochs=3, batch_size=8, lr=0.05, weight_decay=0.01, optimizer=optimizer)
    stacked = _train(train_stacked, arch, x=x, y=y, keep=keep, config=config)
    sequential = _train(train_sequential, arch, x=x, y=y, keep=keep, config=config)
    for name, p in stacked.params.items():
        torch.testing.assert_close(p, sequential.params[name], rtol=1e-5, atol=1e-5)


def test_unequal_counts_model_in_a_stack_equals_model_trained_alone():
    _, shape = ARCHS["mlp"]
    x, y = _data(shape)
    keep = _ragged_keep(len(y))
    stack = _train(train_stacked, "mlp", x=x, y=y, keep=keep, seeds=[3, 4, 5])
    for k, seed in enumerate((3, 4, 5)):  # the shortest model (k=0) idles at the end
        alone = _train(train_stacked, "mlp", x=x, y=y, keep=keep[k : k + 1], seeds=[seed])
        for name, p in stack.params.items():
            torch.testing.assert_close(p[k], alone.params[name][0], rtol=1e-6, atol=1e-6)


def test_ragged_sampler_steps_each_model_exactly_through_its_own_epochs():
    counts = (3, 5)
    rows = torch.tensor([[0, 1, 2, 0, 0], [3, 4, 5, 6, 7]])
    sampler = RaggedEpochSampler(epochs=2, batch_size=2, counts=counts)
    generators = [torch.Generator().manual_seed(s) for s in (1, 2)]
    rounds = [list(r) for r in sampler.rounds(rows, generators)]
    assert [len(r) for r in rounds] == [3, 3]  # ceil(5 / 2) steps a round, 2 rounds
    batches = [b for r in rounds for b in r]
    assert [b.active.tolist() for b in batches] == [[True, True]] * 4 + [[False, True]] * 2
    for k, n in enumerate(counts):
        taken = torch.cat([b.index[k][b.weight[k] > 0] for b in batches if b.active[k]])
        assert len(taken) == 2 * n  # its own steps only, ceil(n / 2) an epoch
        epochs = [sorted(taken[:n].tolist()), sorted(taken[n:].tolist())]
        assert epochs == [rows[k, :n].tolist()] * 2  # each epoch a permutation of its rows
    for b in batches:
        assert torch.allclose(b.weight.sum(dim=1), b.active.float())  # a mean per model


def test_adam_takes_no_momentum():
    with pytest.raises(ConfigError, match=r"momentum: 0.9 is not allowed; allowed: .* 0 with adam"):
        TrainConfig(epochs=1, batch_size=4, lr=0.1, momentum=0.9)


def test_cosine_schedule_by_hand():
    # T = 4 steps: factors (1 + cos(pi t / 4)) / 2 for t = 0..4
    expected = [1.0, (2 + 2**0.5) / 4, 0.5, (2 - 2**0.5) / 4, 0.0]
    assert [cosine_factor(t, 4) for t in range(5)] == pytest.approx(expected, abs=1e-12)
    param = torch.zeros(1, requires_grad=True)
    config = TrainConfig(epochs=1, batch_size=4, lr=0.1, optimizer="sgd", schedule="cosine")
    optimizer = make_optimizer([param], config)
    schedule = make_schedule(optimizer, config, steps=4)
    rates = []
    for _ in range(4):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert rates == pytest.approx([0.1 * f for f in expected[:4]], abs=1e-12)
    assert make_schedule(optimizer, TrainConfig(epochs=1, batch_size=4, lr=0.1), steps=4) is None


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_momentum_and_cosine_stacked_equals_sequential(arch):
    _, shape = ARCHS[arch]
    x, y = _data(shape)
    keep = _keep(len(y), 3, 21)
    config = TrainConfig(
        epochs=3,
        batch_size=8,
        lr=0.1,
        weight_decay=5e-4,
        optimizer="sgd",
        momentum=0.9,
        schedule="cosine",
    )
    stacked = _train(train_stacked, arch, x=x, y=y, keep=keep, config=config)
    sequential = _train(train_sequential, arch, x=x, y=y, keep=keep, config=config)
    plain = _train(train_stacked, arch, x=x, y=y, keep=keep)
    for name, p in stacked.params.items():
        torch.testing.assert_close(p, sequential.params[name], rtol=1e-5, atol=1e-5)
    assert any(not torch.allclose(p, plain.params[n]) for n, p in stacked.params.items())


def test_model_rates_follow_each_models_own_cosine_by_hand():
    config = TrainConfig(epochs=1, batch_size=4, lr=0.1, optimizer="sgd", schedule="cosine")
    rates = model_rates(config, steps=[2, 4])
    assert rates is not None
    # s = 2: (1 + cos(pi t / 2)) / 2 = 1, 0.5, 0, 0; s = 4: 1, (2 + 2**0.5) / 4, 0.5, ...
    expected = [[1.0, 1.0], [0.5, (2 + 2**0.5) / 4], [0.0, 0.5], [0.0, (2 - 2**0.5) / 4]]
    assert [rates(t).tolist() for t in range(4)] == [pytest.approx(e, abs=1e-12) for e in expected]
    assert model_rates(TrainConfig(epochs=1, batch_size=4, lr=0.1), steps=[2, 4]) is None


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_ragged_cosine_stack_gives_each_model_its_own_schedule(optimizer):
    # Rows of 9, 21 and 14 records take 6, 9 and 6 steps: each model's cosine must reach 0
    # at its own last step, as when it trains alone, not at the longest model's.
    _, shape = ARCHS["mlp"]
    x, y = _data(shape)
    keep = _ragged_keep(len(y))
    config = TrainConfig(
        epochs=3,
        batch_size=8,
        lr=0.1,
        weight_decay=5e-4,
        optimizer=optimizer,
        momentum=0.9 if optimizer == "sgd" else 0.0,
        schedule="cosine",
    )
    stacked = _train(train_stacked, "mlp", x=x, y=y, keep=keep, config=config)
    sequential = _train(train_sequential, "mlp", x=x, y=y, keep=keep, config=config)
    for name, p in stacked.params.items():
        torch.testing.assert_close(p, sequential.params[name], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_predict_matches_each_plain_module(arch):
    _, shape = ARCHS[arch]
    x, y = _data(shape)
    models = _train(train_stacked, arch, x=x, y=y, keep=_keep(len(y), 2, 20))
    logits = predict_logits(models, x, batch_size=7)
    assert logits.shape == (2, len(y), CLASSES) and logits.dtype == np.float32
    for k in range(2):
        with torch.no_grad():
            expected = models.model(k)(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(logits[k], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_each_model_sees_only_its_own_rows(arch):
    _, shape = ARCHS[arch]
    x, y = _data(shape, n=40)
    keep = np.zeros((2, 40), dtype=bool)
    keep[0, :20] = keep[1, 20:] = True
    base = _train(train_stacked, arch, x=x, y=y, keep=keep)
    x2, y2 = x.copy(), y.copy()
    x2[25] += 1.0  # rows 25 and 30 belong to model 1 only
    y2[30] = (y2[30] + 1) % CLASSES
    changed = _train(train_stacked, arch, x=x2, y=y2, keep=keep)
    for name, p in base.params.items():
        assert torch.equal(p[0], changed.params[name][0]), name
    assert any(not torch.equal(p[1], changed.params[n][1]) for n, p in base.params.items())


def test_model_in_a_stack_equals_model_trained_alone():
    _, shape = ARCHS["mlp"]
    x, y = _data(shape)
    keep = _keep(len(y), 3, 20)
    stack = _train(train_stacked, "mlp", x=x, y=y, keep=keep, seeds=[3, 4, 5])
    alone = _train(train_stacked, "mlp", x=x, y=y, keep=keep[1:2], seeds=[4])
    for name, p in stack.params.items():
        torch.testing.assert_close(p[1], alone.params[name][0], rtol=1e-6, atol=1e-6)


def test_training_is_bit_identical_across_runs_and_depends_on_seed():
    _, shape = ARCHS["cnn"]
    x, y = _data(shape)
    keep = _keep(len(y), 2, 20)
    a = _train(train_stacked, "cnn", x=x, y=y, keep=keep, seeds=[1, 2])
    b = _train(train_stacked, "cnn", x=x, y=y, keep=keep, seeds=[1, 2])
    c = _train(train_stacked, "cnn", x=x, y=y, keep=keep, seeds=[1, 3])
    assert all(torch.equal(p, b.params[name]) for name, p in a.params.items())
    assert all(torch.equal(p[0], c.params[name][0]) for name, p in a.params.items())
    assert not torch.equal(a.params["0.weight"][1], c.params["0.weight"][1])


def test_stacked_models_learn_a_separable_task():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    models = train_stacked(
        arch="logreg",
        arch_params={},
        x=x,
        y=y,
        num_classes=2,
        keep=_keep(200, 4, 100),
        seeds=[0, 1, 2, 3],
        config=TrainConfig(epochs=20, batch_size=16, lr=0.1),
    )
    accuracy = (predict_logits(models, x).argmax(-1) == y).mean(axis=1)
    assert accuracy.min() > 0.95


def test_training_leaves_the_global_rng_alone():
    x, y = _data((7,))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _train(train_stacked, "mlp", x=x, y=y, keep=_keep(len(y), 2, 10))
    assert torch.equal(torch.rand(3), expected)


def test_cross_entropy_grad_by_hand():
    # K=1, B=2, C=2: logits (0, 0) -> softmax (1/2, 1/2); label 0 -> (1/2 - 1, 1/2) / 2
    # logits (ln 3, 0) -> softmax (3/4, 1/4); label 1 -> (3/4, 1/4 - 1) / 2
    logits = torch.tensor([[[0.0, 0.0], [float(np.log(3.0)), 0.0]]])
    grad = cross_entropy_grad(logits, torch.tensor([0, 1]))
    expected = torch.tensor([[[-0.25, 0.25], [0.375, -0.375]]])
    torch.testing.assert_close(grad, expected)
    autograd = logits.clone().requires_grad_()
    torch.nn.functional.cross_entropy(autograd[0], torch.tensor([0, 1])).backward()
    torch.testing.assert_close(grad, autograd.grad)


# -- bad input --------------------------------------------------------------------------


def test_unequal_member_counts_with_privacy_are_refused():
    x, y = _data((7,))
    keep = _keep(len(y), 2, 10)
    keep[1, np.flatnonzero(~keep[1])[0]] = True
    config = TrainConfig(epochs=1, batch_size=8, lr=0.05, privacy=DPConfig(epsilon=1.0, delta=1e-3))
    with pytest.raises(ConfigError, match=r"keep: member counts \[10, 11\] with privacy"):
        _train(train_stacked, "mlp", x=x, y=y, keep=keep, config=config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"keep": np.ones((2, 45), dtype=np.int64)}, r"keep: dtype int64 shape \[2, 45\]"),
        ({"keep": np.ones((2, 44), dtype=bool)}, r"x, y, keep: 45 inputs, 45 labels"),
        ({"keep": np.zeros((2, 45), dtype=bool)}, r"keep: member counts \[0\] .* at least one"),
        ({"seeds": [1]}, r"seeds: 1 seeds for 2 models are not allowed; allowed: one integer"),
        ({"seeds": [1, 2.5]}, r"seeds: 2\.5 is not allowed; allowed: integers in"),
        ({"seeds": [1, -2]}, r"seeds: -2 is not allowed; allowed: integers in \[0, 2\*\*63\)"),
        ({"y": np.full(45, 3)}, r"y: labels in \[3, 3\] are not allowed; allowed: 0 .. 2"),
        ({"y": np.zeros(45, dtype=np.float32)}, r"y: dtype float32"),
    ],
)
def test_bad_training_inputs_are_refused(change, message):
    x, y = _data((7,))
    args = {"x": x, "y": y, "keep": _keep(len(y), 2, 10), "seeds": [1, 2]} | change
    with pytest.raises(ConfigError, match=message):
        _train(train_stacked, "mlp", **args)


def test_unknown_architecture_is_refused_before_training():
    x, y = _data((7,))
    with pytest.raises(UnknownNameError, match="arch: unknown value 'vit'"):
        train_stacked(
            arch="vit",
            arch_params={},
            x=x,
            y=y,
            num_classes=CLASSES,
            keep=_keep(len(y), 1, 10),
            seeds=[0],
            config=TrainConfig(epochs=1, batch_size=4, lr=0.1),
        )


def test_predict_refuses_wrong_record_shape_and_batch_size():
    x, y = _data((7,))
    models = _train(train_stacked, "logreg", x=x, y=y, keep=_keep(len(y), 1, 10))
    with pytest.raises(ConfigError, match=r"x: record shape \[6\] is not allowed; allowed: \[7\]"):
        predict_logits(models, x[:, :6])
    with pytest.raises(ConfigError, match="batch_size: 0 is not allowed"):
        predict_logits(models, x, batch_size=0)
    assert predict_logits(models, x[:0]).shape == (1, 0, CLASSES)


# -- checkpoints ------------------------------------------------------------------------


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_checkpoint_round_trip_and_deterministic_bytes(tmp_path):
    _, shape = ARCHS["cnn"]
    x, y = _data(shape)
    models = _train(train_stacked, "cnn", x=x, y=y, keep=_keep(len(y), 2, 10))
    save_models(tmp_path / "a.safetensors", models)
    save_models(tmp_path / "b.safetensors", models)
    assert _sha(tmp_path / "a.safetensors") == _sha(tmp_path / "b.safetensors")
    back = load_models(tmp_path / "a.safetensors")
    assert (back.arch, back.arch_params, back.input_shape, back.num_classes, back.seeds) == (
        "cnn",
        {"channels": [3, 4]},
        (1, 8, 8),
        CLASSES,
        (11, 12),
    )
    assert back.params.keys() == models.params.keys()
    assert all(torch.equal(p, back.params[name]) for name, p in models.params.items())
    np.testing.assert_array_equal(predict_logits(back, x), predict_logits(models, x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.safetensors", "b.safetensors"]


def test_checkpoint_metadata_is_json_in_the_safetensors_header(tmp_path):
    x, y = _data((7,))
    models = _train(train_stacked, "mlp", x=x, y=y, keep=_keep(len(y), 2, 10))
    save_models(tmp_path / "m.safetensors", models)
    with safe_open(str(tmp_path / "m.safetensors"), framework="pt") as handle:
        meta = handle.metadata()
        assert sorted(handle.keys()) == sorted(models.params)
    assert meta == {
        "leakbench": '{"arch":"mlp","arch_params":{"hidden":[9,5]},'
        '"format":"leakbench.stacked_models/2","input_shape":[7],"num_classes":3,'
        '"privacy":null,"seeds":[11,12]}'
    }


def test_loading_unpickles_nothing(tmp_path, monkeypatch):
    x, y = _data((7,))
    models = _train(train_stacked, "logreg", x=x, y=y, keep=_keep(len(y), 1, 10))
    save_models(tmp_path / "m.safetensors", models)

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    for target, name in [
        (pickle, "load"),
        (pickle, "loads"),
        (pickle, "Unpickler"),
        (torch, "load"),
    ]:
        monkeypatch.setattr(target, name, refuse)
    back = load_models(tmp_path / "m.safetensors")
    assert torch.equal(back.params["1.weight"], models.params["1.weight"])


def test_loading_a_bad_file_names_it(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(DataError, match=r"bad\.safetensors: not a readable leakbench checkpoint"):
        load_models(bad)
    other = tmp_path / "other.safetensors"
    other.write_bytes(save({"w": torch.zeros(2)}, metadata={"leakbench": '{"format": "v0"}'}))
    with pytest.raises(DataError, match=r"other\.safetensors: header .* is not allowed"):
        load_models(other)
    x, y = _data((7,))
    models = _train(train_stacked, "logreg", x=x, y=y, keep=_keep(len(y), 1, 10))
    wrong = StackedModels(**{**models.__dict__, "arch_params": {}, "input_shape": (8,)})
    save_models(tmp_path / "wrong.safetensors", wrong)
    with pytest.raises(DataError, match=r"wrong\.safetensors: tensors .* do not match"):
        load_models(tmp_path / "wrong.safetensors")


# -- device -----------------------------------------------------------------------------


def test_device_defaults_to_cpu(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    assert resolve_device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert resolve_device() == torch.device("cpu")


def test_auto_device_follows_what_the_process_sees(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "auto")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    assert resolve_device() == torch.device("cuda")
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_unknown_or_missing_device_names_the_variable(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "tpu")
    with pytest.raises(ConfigError, match=r"^LEAKBENCH_DEVICE: 'tpu' is not allowed; allowed: cpu"):
        resolve_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv(DEVICE_ENV, "cuda")
        with pytest.raises(ConfigError, match=r"'cuda' is not allowed; allowed: cpu, auto \(this"):
            resolve_device()
        x, y = _data((7,))
        with pytest.raises(ConfigError, match="LEAKBENCH_DEVICE"):
            _train(train_stacked, "logreg", x=x, y=y, keep=_keep(len(y), 1, 10))
