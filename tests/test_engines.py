"""The two stacked engines on hand-built modules, the fast-path registry, and the hooks.

The modules here hold the layers the fast path has no handler for (Dropout, GroupNorm,
bias-free convolutions, Embedding on token ids, Conv1d with max over time, GRU), so they
train through the torch.func fallback; the oracles are autograd on the plain module,
Opacus's clipped sums, and the same model trained alone.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import ARCHS, CLASSES, opacus_clipped_sums, random_data
from torch import nn

from leakbench.errors import ConfigError
from leakbench.privacy import DPConfig
from leakbench.training import TrainConfig, predict_logits, train_stacked
from leakbench.training.engine import make_engine
from leakbench.training.fast_registry import STACKED_LAYERS, StackedLayer, handler_for
from leakbench.training.func_layers import VmapGRU
from leakbench.training.functional import FuncNet
from leakbench.training.hooks import Hooks, Progress
from leakbench.training.stacked import train_modules
from leakbench.training.stacked_net import StackedNet

pytestmark = pytest.mark.usefixtures("deterministic_torch")
VOCAB = 11


class TextConv(nn.Module):
    """Embedding, Conv1d, ReLU, max over time, Linear: token ids in."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, 4)
        self.conv = nn.Conv1d(4, 5, 3)
        self.linear = nn.Linear(5, CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.conv(self.embedding(tokens).transpose(1, 2)))
        return self.linear(hidden.amax(dim=2))


class Recurrent(nn.Module):
    """Embedding, torch's own nn.GRU, Linear on the last hidden state: token ids in."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, 4)
        self.gru = nn.GRU(4, 5, batch_first=True)
        self.linear = nn.Linear(5, CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        _, last = self.gru(self.embedding(tokens))
        return self.linear(last[-1])


# name -> (builder, input shape, inputs, has dropout)
MODULES = {
    "tanh_mlp": (
        lambda: nn.Sequential(nn.Flatten(), nn.Linear(7, 6), nn.Tanh(), nn.Linear(6, CLASSES)),
        (7,),
        "float",
        False,
    ),
    "dropout_mlp": (
        lambda: nn.Sequential(nn.Linear(7, 8), nn.ReLU(), nn.Dropout(0.4), nn.Linear(8, CLASSES)),
        (7,),
        "float",
        True,
    ),
    "groupnorm_conv": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, bias=False),
            nn.GroupNorm(2, 4),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 3 * 3, CLASSES),
        ),
        (1, 6, 6),
        "float",
        False,
    ),
    "text_conv": (TextConv, (6,), "tokens", False),
    "gru": (Recurrent, (5,), "tokens", False),
}


def _build(name):
    make = MODULES[name][0]

    def build(seed):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return make()

    return build


def _data(name, n=40, seed=0):
    _, shape, inputs, _ = MODULES[name]
    if inputs == "tokens":
        rng = np.random.default_rng(seed)
        return rng.integers(0, VOCAB, (n, *shape)), rng.integers(0, CLASSES, n)
    return random_data(shape, n, seed)


def _keep(n, count, members, seed=1):
    rng = np.random.default_rng(seed)
    keep = np.zeros((count, n), dtype=bool)
    for row in keep:
        row[rng.choice(n, members, replace=False)] = True
    return keep


def _train_modules(name, keep, seeds, config, **more):
    x, y = _data(name)
    return train_modules(
        build=_build(name),
        x=x,
        y=y,
        num_classes=CLASSES,
        keep=keep,
        seeds=seeds,
        config=config,
        **({"inputs": MODULES[name][2]} | more),
    )


def _tensor(x, name):
    return torch.as_tensor(x, dtype=torch.int64 if MODULES[name][2] == "tokens" else None)


_PLAIN = TrainConfig(epochs=2, batch_size=8, lr=0.05, weight_decay=0.01)
_DP = TrainConfig(
    epochs=2, batch_size=8, lr=0.05, privacy=DPConfig(epsilon=4.0, delta=1e-3, max_grad_norm=0.5)
)


# -- the fallback on hand-built modules -------------------------------------------------


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"tanh_mlp"}))
def test_these_modules_take_the_fallback(name):
    assert not StackedNet.supports(_build(name)(0))
    assert isinstance(make_engine(template=_build(name)(0), count=2), FuncNet)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not MODULES[n][3]))
def test_fallback_gradient_equals_autograd_per_model(name):
    x, y = _data(name, n=6)
    models = [_build(name)(seed) for seed in (1, 2)]
    engine = FuncNet(models[0], 2)
    flat = engine.pack(
        {n: torch.stack([m.get_parameter(n).detach() for m in models]) for n in engine.shapes}
    )
    grad = torch.empty_like(flat)
    xb = _tensor(np.stack([x, x[::-1].copy()]), name)
    yb = torch.as_tensor(np.concatenate([y, y[::-1]]))
    engine.gradient(
        engine.views(flat), engine.views(grad), xb, yb, weight=None, max_norm=None, generators=[]
    )
    for k, model in enumerate(models):
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(xb[k]), yb.view(2, -1)[k])
        loss.backward()
        for n, p in model.named_parameters():
            torch.testing.assert_close(engine.unpack(grad)[n][k], p.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["tanh_mlp", "groupnorm_conv", "text_conv"])
def test_fallback_clipped_sums_equal_opacus(name):
    """One model, noise off: the fallback's clipped, summed per-record gradients are
    Opacus's DPOptimizer's."""
    x, y = _data(name, n=12)
    model = _build(name)(4)
    engine = FuncNet(model, 1)
    flat = engine.pack({n: p.detach()[None] for n, p in model.named_parameters()})
    grad = torch.empty_like(flat)
    xb, yb = _tensor(x, name)[None], torch.as_tensor(y)
    common = {"weight": torch.ones(1, len(y)), "generators": []}
    views = engine.views(flat), engine.views(grad)
    norms = engine.gradient(*views, xb, yb, max_norm=1e9, **common)
    clip = float(norms.median())  # about half the records are clipped
    engine.gradient(*views, xb, yb, max_norm=clip, **common)

    reference = opacus_clipped_sums(model, xb[0], yb, clip)
    assert 0 < (norms > clip).sum().item() < len(y)
    for n in reference:
        torch.testing.assert_close(engine.unpack(grad)[n][0], reference[n], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("private", [False, True], ids=["plain", "dp"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_fallback_model_in_a_stack_equals_the_model_alone(name, private):
    """Batches, dropout masks and DP noise come from each model's own generator."""
    config = _DP if private else _PLAIN
    keep = _keep(40, 3, 20)
    stack = _train_modules(name, keep, [3, 4, 5], config, engine="func")
    assert (stack.privacy is not None) == private
    initial = dict(_build(name)(4).named_parameters())
    assert max((stack.params[n][1] - p).abs().max() for n, p in initial.items()) > 1e-3
    for k, seed in enumerate((3, 4, 5)):
        alone = _train_modules(name, keep[k : k + 1], [seed], config, engine="func")
        for n, p in alone.params.items():
            torch.testing.assert_close(stack.params[n][k], p[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_fallback_unequal_counts_model_in_a_stack_equals_the_model_alone(name):
    """With 11, 20 and 17 records (batch 8): each model takes its own steps and dropout
    masks, then idles unchanged while the longest finishes."""
    keep = np.zeros((3, 40), dtype=bool)
    for row, members in zip(keep, (11, 20, 17), strict=True):
        row[np.random.default_rng(members).choice(40, members, replace=False)] = True
    stack = _train_modules(name, keep, [3, 4, 5], _PLAIN, engine="func")
    for k, seed in enumerate((3, 4, 5)):
        alone = _train_modules(name, keep[k : k + 1], [seed], _PLAIN, engine="func")
        for n, p in alone.params.items():
            torch.testing.assert_close(stack.params[n][k], p[0], rtol=1e-5, atol=1e-6)


def test_dropout_masks_are_drawn_and_leave_the_global_rng_alone():
    keep = _keep(40, 2, 20)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    dropped = _train_modules("dropout_mlp", keep, [3, 4], _PLAIN)
    assert torch.equal(torch.rand(3), expected)
    x, y = _data("dropout_mlp")

    def no_dropout(seed):
        model = _build("dropout_mlp")(seed)
        model[2].p = 0.0
        return model

    kept = train_modules(
        build=no_dropout, x=x, y=y, num_classes=CLASSES, keep=keep, seeds=[3, 4], config=_PLAIN
    )
    for n, p in dropped.params.items():
        assert not torch.allclose(p, kept.params[n]), n


@pytest.mark.parametrize("name", sorted(MODULES))
def test_fallback_predictions_equal_each_module_in_eval_mode(name):
    keep = _keep(40, 2, 20)
    trained = _train_modules(name, keep, [1, 2], _PLAIN, engine="func")
    x, _ = _data(name)
    engine = FuncNet(_build(name)(0), 2)
    with torch.no_grad():
        logits = engine.logits(engine.views(engine.pack(trained.params)), _tensor(x, name))
        for k in range(2):
            model = _build(name)(0)
            model.load_state_dict({n: p[k] for n, p in trained.params.items()})
            expected = model.eval()(_tensor(x, name))
            torch.testing.assert_close(logits[k], expected, rtol=1e-5, atol=1e-6)


def test_gru_stand_in_computes_torch_gru():
    torch.manual_seed(0)
    for batch_first in (True, False):
        gru = nn.GRU(4, 5, num_layers=2, batch_first=batch_first)
        x = torch.randn(3, 6, 4)
        with torch.no_grad():
            expected, last = gru(x)
            ours, our_last = VmapGRU(gru)(x)
        torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(our_last, last, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="VmapGRU"):
        VmapGRU(nn.GRU(4, 5, bidirectional=True))


# -- fast path == fallback --------------------------------------------------------------


@pytest.mark.parametrize("private", [False, True], ids=["plain", "dp"])
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_fast_path_equals_fallback(arch, private):
    params, shape = ARCHS[arch]
    x, y = random_data(shape, 45)
    config = _DP if private else _PLAIN
    common = {
        "arch": arch,
        "arch_params": params,
        "x": x,
        "y": y,
        "num_classes": CLASSES,
        "keep": _keep(45, 3, 21),
        "seeds": [11, 12, 13],
        "config": config,
    }
    fast = train_stacked(**common, engine="fast")
    func = train_stacked(**common, engine="func")
    assert fast.privacy == func.privacy
    for n, p in fast.params.items():
        torch.testing.assert_close(func.params[n], p, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        predict_logits(func, x, engine="func"), predict_logits(fast, x), rtol=1e-4, atol=1e-5
    )


def test_tanh_chain_takes_the_fast_path_and_equals_the_fallback():
    model = _build("tanh_mlp")(0)
    assert StackedNet.supports(model) and isinstance(
        make_engine(template=model, count=2), StackedNet
    )
    keep = _keep(40, 2, 20)
    fast = _train_modules("tanh_mlp", keep, [1, 2], _PLAIN, engine="fast")
    func = _train_modules("tanh_mlp", keep, [1, 2], _PLAIN, engine="func")
    for n, p in fast.params.items():
        torch.testing.assert_close(func.params[n], p, rtol=1e-5, atol=1e-6)


def test_registry_looks_layers_up_by_exact_type_and_checks_them():
    assert isinstance(STACKED_LAYERS[nn.Linear], StackedLayer)
    assert handler_for(nn.Linear(2, 3)) is STACKED_LAYERS[nn.Linear]
    assert handler_for(nn.Linear(2, 3, bias=False)) is None
    assert handler_for(nn.Conv2d(1, 2, 3, padding_mode="reflect")) is None
    assert handler_for(nn.Flatten(2)) is None
    assert handler_for(nn.GroupNorm(1, 2)) is None
    assert not StackedNet.supports(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))  # no logits


def test_engine_errors_name_the_key_and_allowed_values():
    with pytest.raises(ConfigError, match=r"^engine: 'jit' is not allowed; allowed: auto, fast"):
        make_engine(template=_build("tanh_mlp")(0), count=1, engine="jit")
    with pytest.raises(ConfigError, match=r"engine: 'fast' is not allowed for a model with Drop"):
        make_engine(template=_build("dropout_mlp")(0), count=1, engine="fast")
    with pytest.raises(ConfigError, match=r"^inputs: 'bytes' is not allowed; allowed: float"):
        _train_modules("tanh_mlp", _keep(40, 1, 8), [0], _PLAIN, inputs="bytes")


# -- hooks ------------------------------------------------------------------------------


_SGD = TrainConfig(epochs=2, batch_size=8, lr=0.1, optimizer="sgd")


@pytest.mark.parametrize("engine", ["fast", "func"])
def test_gradient_transform_changes_only_what_it_touches(engine):
    def freeze_model_one(grads, params):
        for g in grads.values():
            g[1].zero_()

    keep = _keep(40, 2, 20)
    hooked = _train_modules(
        "tanh_mlp", keep, [1, 2], _SGD, engine=engine, hooks=Hooks(grad_transform=freeze_model_one)
    )
    plain = _train_modules("tanh_mlp", keep, [1, 2], _SGD, engine=engine)
    initial = dict(_build("tanh_mlp")(2).named_parameters())
    for n, p in hooked.params.items():
        assert torch.equal(p[1], initial[n].detach())  # SGD without decay: never moved
        torch.testing.assert_close(p[0], plain.params[n][0])


@pytest.mark.parametrize("private", [False, True], ids=["plain", "dp"])
@pytest.mark.parametrize("engine", ["fast", "func"])
def test_parameter_loss_l2_equals_weight_decay(engine, private):
    """``lambda/2 * ||w||^2`` as a parameter loss has the gradient ``lambda * w`` of
    coupled weight decay: the two runs must agree (and differ from no decay)."""
    decay = 0.3
    config = _DP if private else _SGD

    def l2(params):
        return sum(p.flatten(1).square().sum(dim=1) for p in params.values()) * decay / 2

    keep = _keep(40, 2, 20)
    hooked = _train_modules(
        "tanh_mlp", keep, [1, 2], config, engine=engine, hooks=Hooks(param_loss=l2)
    )
    fields = {**config.__dict__, "weight_decay": decay}
    decayed = _train_modules("tanh_mlp", keep, [1, 2], TrainConfig(**fields), engine=engine)
    free = _train_modules("tanh_mlp", keep, [1, 2], config, engine=engine)
    for n, p in hooked.params.items():
        torch.testing.assert_close(p, decayed.params[n], rtol=1e-5, atol=1e-6)
    assert any(not torch.allclose(p, free.params[n]) for n, p in hooked.params.items())


def test_parameter_loss_must_give_one_term_per_model():
    with pytest.raises(ConfigError, match=r"param_loss: a result of shape \[\] is not allowed"):
        _train_modules(
            "tanh_mlp",
            _keep(40, 2, 8),
            [1, 2],
            _SGD,
            hooks=Hooks(param_loss=lambda params: params["1.weight"].sum()),
        )


@pytest.mark.parametrize("private", [False, True], ids=["plain", "dp"])
def test_callback_runs_each_round_or_step_and_sees_the_parameters(private):
    config = _DP if private else _SGD
    steps = config.epochs * math.ceil(20 / config.batch_size)  # 20 members, batches of 8
    keep = _keep(40, 2, 20)
    for every, calls in (("round", config.epochs), ("step", steps)):
        seen: list[Progress] = []

        def record(progress, seen=seen):
            seen.append(
                Progress(
                    progress.round,
                    progress.step,
                    {n: p.clone() for n, p in progress.params.items()},
                )
            )

        trained = _train_modules(
            "dropout_mlp", keep, [1, 2], config, hooks=Hooks(callback=record, every=every)
        )
        assert len(seen) == calls
        assert seen[-1].step == steps and seen[-1].round == config.epochs - 1
        assert [p.step for p in seen] == sorted(p.step for p in seen)
        for n, p in trained.params.items():
            assert torch.equal(seen[-1].params[n], p)
        assert not torch.equal(seen[0].params["3.weight"], seen[-1].params["3.weight"])


def test_callback_every_is_checked():
    with pytest.raises(ConfigError, match=r"^every: 'epoch' is not allowed; allowed: round, step"):
        Hooks(every="epoch")
