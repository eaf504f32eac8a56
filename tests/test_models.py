"""Architecture registry and builders."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from leakbench.errors import ConfigError, UnknownNameError
from leakbench.models import (
    ARCHITECTURES,
    INPUTS,
    build_model,
    get_architecture,
    register_architecture,
)
from leakbench.models.recurrent import GRULayer


def _linear_widths(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


def _example(name: str) -> nn.Module:
    example = ARCHITECTURES[name].example
    return build_model(
        name,
        input_shape=tuple(example["input_shape"]),
        num_classes=example["num_classes"],
        **example["arch_params"],
    )


def _example_input(name: str, batch: int, seed: int = 0) -> torch.Tensor:
    """Random input for ``name``'s example: float records or int64 token ids."""
    arch = ARCHITECTURES[name]
    shape = (batch, *arch.example["input_shape"])
    generator = torch.Generator().manual_seed(seed)
    if arch.inputs == "tokens":
        return torch.randint(0, arch.example["arch_params"]["vocab"], shape, generator=generator)
    return torch.randn(shape, generator=generator)


def test_registry_names_and_params():
    assert sorted(ARCHITECTURES) == ["cnn", "gru", "logreg", "mlp", "resnet20", "textcnn", "wrn"]
    assert ARCHITECTURES["logreg"].params == ()
    assert ARCHITECTURES["mlp"].params == ("hidden", "activation", "dropout")
    assert ARCHITECTURES["cnn"].params == ("channels",)
    assert ARCHITECTURES["resnet20"].params == ("base_channels", "groups", "blocks")
    assert ARCHITECTURES["wrn"].params == ("depth", "width", "base_channels", "groups")
    assert ARCHITECTURES["textcnn"].params == ("vocab", "embed_dim", "filters", "widths", "dropout")
    assert ARCHITECTURES["gru"].params == ("vocab", "embed_dim", "hidden", "layers")
    assert ARCHITECTURES["textcnn"].required == ARCHITECTURES["gru"].required == ("vocab",)
    assert ARCHITECTURES["mlp"].required == ()
    assert {n for n, a in ARCHITECTURES.items() if a.inputs == "tokens"} == {"gru", "textcnn"}
    for arch in ARCHITECTURES.values():
        assert arch.description
        assert arch.inputs in INPUTS
        assert sorted(arch.example) == ["arch_params", "input_shape", "num_classes"]
        assert set(arch.example["arch_params"]) <= set(arch.params)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_example_output_shape_and_seeded_determinism(name):
    torch.manual_seed(3)
    model = _example(name).eval()
    torch.manual_seed(3)
    same = _example(name).eval()
    other = _example(name)
    x = _example_input(name, 5)
    out = model(x)
    assert out.shape == (5, ARCHITECTURES[name].example["num_classes"])
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert torch.equal(out, same(x))
    pairs = zip(model.state_dict().items(), same.state_dict().items(), strict=True)
    assert all(ka == kb and torch.equal(a, b) for (ka, a), (kb, b) in pairs)
    assert any(
        not torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters(), strict=True)
    )


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_example_runs_stacked_under_vmap(name):
    """K models through ``torch.func`` (the stacked trainer's fallback) give each model's
    own logits, and per-record gradients under a nested vmap sum to the batch gradient."""
    torch.manual_seed(5)
    models = [_example(name).eval() for _ in range(3)]
    params, buffers = stack_module_state(models)
    x = torch.stack([_example_input(name, 4, seed=k) for k in range(3)])

    def logits(p, b, xs):
        return functional_call(models[0], (p, b), (xs,))

    stacked = vmap(logits)(params, buffers, x)
    for k, model in enumerate(models):
        torch.testing.assert_close(stacked[k], model(x[k]), rtol=1e-5, atol=1e-6)

    def loss(p, b, xs):
        return logits(p, b, xs).logsumexp(dim=1).sum()

    one = {n: t[0] for n, t in params.items()}
    per_record = vmap(torch.func.grad(loss), in_dims=(None, None, 0))(
        one, {n: t[0] for n, t in buffers.items()}, x[0].unsqueeze(1)
    )
    batch = torch.func.grad(loss)(one, {n: t[0] for n, t in buffers.items()}, x[0])
    for n, g in batch.items():
        torch.testing.assert_close(per_record[n].sum(0), g, rtol=1e-4, atol=1e-5)


def test_logreg_is_one_linear_layer_on_flattened_input():
    model = build_model("logreg", input_shape=(108,), num_classes=2)
    assert _linear_widths(model) == [(108, 2)]
    assert model(torch.zeros(5, 108)).shape == (5, 2)
    image = build_model("logreg", input_shape=(1, 4, 4), num_classes=3)
    assert _linear_widths(image) == [(16, 3)]


def test_mlp_widths_follow_hidden_and_default():
    model = build_model("mlp", input_shape=(600,), num_classes=100, hidden=[1024, 512, 256, 128])
    assert _linear_widths(model) == [(600, 1024), (1024, 512), (512, 256), (256, 128), (128, 100)]
    assert sum(isinstance(m, nn.ReLU) for m in model) == 4
    default = build_model("mlp", input_shape=(108,), num_classes=2)
    assert _linear_widths(default) == [(108, 64), (64, 64), (64, 2)]
    flat = build_model("mlp", input_shape=(1, 28, 28), num_classes=10, hidden=[32])
    assert flat(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_cnn_shapes_for_28x28():
    model = build_model("cnn", input_shape=(1, 28, 28), num_classes=10)
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 16), (16, 32)]
    assert _linear_widths(model) == [(32 * 7 * 7, 10)]
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    three = build_model("cnn", input_shape=(1, 28, 28), num_classes=10, channels=[4, 8, 8])
    assert _linear_widths(three) == [(8 * 3 * 3, 10)]


def test_same_rng_state_same_weights():
    torch.manual_seed(7)
    a = build_model("mlp", input_shape=(10,), num_classes=3, hidden=[5])
    torch.manual_seed(7)
    b = build_model("mlp", input_shape=(10,), num_classes=3, hidden=[5])
    c = build_model("mlp", input_shape=(10,), num_classes=3, hidden=[5])
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(b[1].weight, c[1].weight)


def test_unknown_architecture_names_the_allowed_ones():
    with pytest.raises(
        UnknownNameError,
        match=r"arch: unknown value 'resnet'; allowed: cnn, gru, logreg, mlp, resnet20, "
        r"textcnn, wrn",
    ):
        build_model("resnet", input_shape=(4,), num_classes=2)
    with pytest.raises(UnknownNameError):
        get_architecture("transformer")


def test_unknown_parameter_names_key_and_allowed():
    with pytest.raises(ConfigError, match=r"arch_params\.depth: .*allowed: hidden, activation"):
        build_model("mlp", input_shape=(4,), num_classes=2, depth=3)
    with pytest.raises(ConfigError, match=r"arch_params\.hidden: .*allowed: none"):
        build_model("logreg", input_shape=(4,), num_classes=2, hidden=[3])


@pytest.mark.parametrize("hidden", [[], [0], [64, -1], ["64"], [1.5], [True], "64", 64])
def test_bad_hidden_sizes_are_refused(hidden):
    with pytest.raises(ConfigError, match=r"arch_params\.hidden: .* allowed: a non-empty list"):
        build_model("mlp", input_shape=(4,), num_classes=2, hidden=hidden)


def test_cnn_refuses_flat_input_and_too_many_pools():
    with pytest.raises(ConfigError, match=r"input_shape: \[108\] is not allowed for arch 'cnn'"):
        build_model("cnn", input_shape=(108,), num_classes=2)
    with pytest.raises(ConfigError, match=r"arch_params\.channels: .*allowed: at most 4 layers"):
        build_model("cnn", input_shape=(1, 28, 28), num_classes=10, channels=[2, 2, 2, 2, 2])
    with pytest.raises(ConfigError, match=r"arch_params\.channels"):
        build_model("cnn", input_shape=(1, 28, 28), num_classes=10, channels=[0])


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"input_shape": (), "num_classes": 2}, "input_shape"),
        ({"input_shape": (0,), "num_classes": 2}, "input_shape"),
        ({"input_shape": (4,), "num_classes": 1}, "num_classes"),
        ({"input_shape": (4,), "num_classes": 2.0}, "num_classes"),
    ],
)
def test_bad_shapes_and_class_counts_are_refused(kwargs, key):
    with pytest.raises(ConfigError, match=rf"^{key}: .* is not allowed; allowed: "):
        build_model("logreg", **kwargs)


def test_mlp_default_is_unchanged():
    """The default mlp is the hand-built ReLU chain it always was: same layers, same
    state_dict keys and shapes, same values from the same seed (checkpoints and results of
    earlier runs stay valid)."""
    torch.manual_seed(11)
    model = build_model("mlp", input_shape=(108,), num_classes=2)
    torch.manual_seed(11)
    reference = nn.Sequential(
        nn.Flatten(),
        nn.Linear(108, 64),
        nn.ReLU(),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Linear(64, 2),
    )
    assert [type(m) for m in model] == [type(m) for m in reference]
    got, want = model.state_dict(), reference.state_dict()
    assert list(got) == ["1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"]
    assert list(got) == list(want)
    assert all(got[k].shape == want[k].shape and torch.equal(got[k], want[k]) for k in want)


def test_mlp_tanh_swaps_only_the_activation():
    torch.manual_seed(2)
    relu = build_model("mlp", input_shape=(10,), num_classes=3, hidden=[6, 4])
    torch.manual_seed(2)
    tanh = build_model("mlp", input_shape=(10,), num_classes=3, hidden=[6, 4], activation="tanh")
    assert [type(m) for m in tanh] == [
        nn.Flatten,
        nn.Linear,
        nn.Tanh,
        nn.Linear,
        nn.Tanh,
        nn.Linear,
    ]
    assert all(torch.equal(a, b) for a, b in zip(relu.parameters(), tanh.parameters(), strict=True))


@pytest.mark.parametrize("activation", ["sigmoid", "ReLU", None, 1, ["relu"]])
def test_mlp_bad_activation_names_key_and_allowed(activation):
    with pytest.raises(
        ConfigError, match=r"^arch_params\.activation: .* is not allowed; allowed: relu, tanh$"
    ):
        build_model("mlp", input_shape=(4,), num_classes=2, activation=activation)


def test_resnet20_full_size_structure_and_parameter_count():
    model = build_model("resnet20", input_shape=(3, 32, 32), num_classes=10)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, nn.GroupNorm)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs) + len(linears) == 20  # 6n + 2 weighted layers, n = 3
    assert all(c.bias is None and c.kernel_size == (3, 3) for c in convs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert [n.num_groups for n in norms] == [16] * 19
    assert [c.out_channels for c in convs] == [16] * 7 + [32] * 6 + [64] * 6
    assert [c.stride for c in convs if c.stride != (1, 1)] == [(2, 2), (2, 2)]
    # Parameters, derived by hand (3x3 convolutions without bias; GroupNorm has a scale
    # and a shift per channel; the shortcuts (option A) have none):
    #   stem        3*16*9                  =     432   + GroupNorm 2*16        =   32
    #   stage 1     6 convs 16->16: 6*16*16*9 =  13,824 + 6 GroupNorms 6*2*16   =  192
    #   stage 2     16*32*9 + 5*32*32*9     =  50,688   + 6*2*32                =  384
    #   stage 3     32*64*9 + 5*64*64*9     = 202,752   + 6*2*64                =  768
    #   linear      64*10 + 10              =     650
    #   total       267,696 (convolutions) + 1,376 (GroupNorm) + 650 = 269,722 (~0.27M,
    #   He et al. 2016, table 6)
    assert sum(c.weight.numel() for c in convs) == 267_696
    assert sum(p.numel() for n in norms for p in n.parameters()) == 1_376
    assert sum(p.numel() for p in model.parameters()) == 269_722
    features = model[:-3](torch.zeros(2, 3, 32, 32))  # before pooling, flatten, linear
    assert features.shape == (2, 64, 8, 8)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_resnet20_parameters_scale_the_net():
    model = build_model(
        "resnet20", input_shape=(3, 9, 9), num_classes=4, base_channels=8, groups=4, blocks=2
    )
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8] * 5 + [16] * 4 + [32] * 4
    assert {m.num_groups for m in model.modules() if isinstance(m, nn.GroupNorm)} == {4}
    assert model[:-3](torch.zeros(1, 3, 9, 9)).shape == (1, 32, 3, 3)  # 9 -> 5 -> 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_shape": (1, 28, 28)}, r"^input_shape: \[1, 28, 28\] is not allowed for arch "),
        ({"input_shape": (3072,)}, r"^input_shape: .*allowed: a colour image shape \[3, "),
        ({"base_channels": 0}, r"^arch_params\.base_channels: 0 is not allowed; allowed: an integ"),
        ({"groups": 2.0}, r"^arch_params\.groups: 2\.0 is not allowed; allowed: an integer >= 1"),
        ({"blocks": True}, r"^arch_params\.blocks: True is not allowed; allowed: an integer"),
        ({"groups": 5}, r"^arch_params\.groups: 5 is not allowed .*allowed: a divisor of 16$"),
    ],
)
def test_resnet20_bad_params_name_key_and_allowed(kwargs, message):
    kwargs = {"input_shape": (3, 32, 32), "num_classes": 10, **kwargs}
    with pytest.raises(ConfigError, match=message):
        build_model("resnet20", **kwargs)


def test_wrn_16_4_structure_and_parameter_count():
    model = build_model("wrn", input_shape=(3, 32, 32), num_classes=10)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.modules() if isinstance(m, nn.GroupNorm)]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert all(c.bias is None for c in convs)
    assert {n.num_groups for n in norms} == {16}
    # Stem 16; per group two blocks of two 3x3 convolutions on 16k, 32k, 64k = 64, 128,
    # 256 channels, a 1x1 projection where the width changes (all three first blocks).
    three = [c.out_channels for c in convs if c.kernel_size == (3, 3)]
    assert three == [16] + [64] * 4 + [128] * 4 + [256] * 4
    assert [c.out_channels for c in convs if c.kernel_size == (1, 1)] == [64, 128, 256]
    # Parameters, by hand (no convolution bias; GroupNorm a scale and shift per channel):
    #   stem      3*16*9                                              =       432
    #   group 1   16*64*9 + 64*64*9 + 16*64 + 2*64*64*9               =   120,832
    #   group 2   64*128*9 + 128*128*9 + 64*128 + 2*128*128*9         =   524,288
    #   group 3   128*256*9 + 256*256*9 + 128*256 + 2*256*256*9       = 2,097,152
    #   GroupNorm 2 * (16+64 + 64+64 + 64+128 + 128+128 + 128+256 + 256+256 + 256) = 3,616
    #   linear    256*10 + 10                                         =     2,570
    #   total 2,748,890 (Zagoruyko and Komodakis 2016: 2.7M for WRN-16-4)
    assert sum(c.weight.numel() for c in convs) == 2_742_704
    assert sum(p.numel() for n in norms for p in n.parameters()) == 3_616
    assert sum(p.numel() for p in model.parameters()) == 2_748_890
    assert model[:-3](torch.zeros(2, 3, 32, 32)).shape == (2, 256, 8, 8)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_wrn_block_adds_its_input_where_the_shape_is_kept():
    torch.manual_seed(0)
    model = build_model("wrn", input_shape=(3, 8, 8), num_classes=2, depth=16, width=1)
    block = model[2]  # group 1, block 2: 16 -> 16 channels, stride 1, identity shortcut
    assert block.shortcut is None
    x = torch.randn(1, 16, 8, 8)
    activated = torch.relu(block.norm1(x))
    inner = block.conv2(torch.relu(block.norm2(block.conv1(activated))))
    torch.testing.assert_close(block(x), inner + x)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"input_shape": (1, 28, 28)},
            r"^input_shape: \[1, 28, 28\] is not allowed for arch 'wrn'",
        ),
        ({"depth": 15}, r"^arch_params\.depth: 15 is not allowed; allowed: 6N \+ 4 with N >= 1"),
        ({"depth": 4}, r"^arch_params\.depth: 4 is not allowed"),
        ({"width": 0}, r"^arch_params\.width: 0 is not allowed; allowed: an integer"),
        ({"groups": 3}, r"^arch_params\.groups: 3 is not allowed .*allowed: a divisor of 16$"),
    ],
)
def test_wrn_bad_params_name_key_and_allowed(kwargs, message):
    kwargs = {"input_shape": (3, 32, 32), "num_classes": 10, **kwargs}
    with pytest.raises(ConfigError, match=message):
        build_model("wrn", **kwargs)


def test_textcnn_follows_kim():
    model = build_model("textcnn", input_shape=(40,), num_classes=2, vocab=1000)
    assert (model.embedding.num_embeddings, model.embedding.embedding_dim) == (1000, 300)
    assert [(c.kernel_size, c.out_channels) for c in model.convs] == [
        ((3,), 100),
        ((4,), 100),
        ((5,), 100),
    ]
    assert isinstance(model.dropout, nn.Dropout) and model.dropout.p == 0.5
    assert (model.linear.in_features, model.linear.out_features) == (300, 2)
    plain = build_model("textcnn", input_shape=(5,), num_classes=2, vocab=9, dropout=0)
    assert not any(isinstance(m, nn.Dropout) for m in plain.modules())
    assert plain(torch.zeros(3, 5, dtype=torch.int64)).shape == (3, 2)


def test_textcnn_pools_the_maximum_over_time():
    """Moving the tokens that fire the strongest window does not change the logits."""
    torch.manual_seed(0)
    model = build_model(
        "textcnn",
        input_shape=(8,),
        num_classes=2,
        vocab=5,
        embed_dim=3,
        filters=2,
        widths=[2],
        dropout=0,
    )
    padded = torch.tensor([[1, 2, 0, 0, 0, 0, 0, 0]])
    shifted = torch.tensor([[0, 0, 0, 0, 0, 0, 1, 2]])
    torch.testing.assert_close(model(padded), model(shifted))


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        (
            "textcnn",
            {"input_shape": (4,)},
            r"^input_shape: \[4\] is not allowed for arch 'textc.*>= 5$",
        ),
        ("textcnn", {"input_shape": (1, 28, 28)}, r"^input_shape: .*allowed: a token sequence"),
        ("textcnn", {"widths": [3, 0]}, r"^arch_params\.widths: .*allowed: a non-empty list"),
        ("textcnn", {"dropout": 1.0}, r"^arch_params\.dropout: 1\.0 is not allowed; allowed: a n"),
        ("textcnn", {"dropout": "0.5"}, r"^arch_params\.dropout: '0\.5' is not allowed; allowed"),
        ("textcnn", {"filters": 0}, r"^arch_params\.filters: 0 is not allowed; allowed: an integ"),
        (
            "textcnn",
            {"vocab": 1},
            r"^arch_params\.vocab: 1 is not allowed; allowed: an integer >= 2",
        ),
        ("gru", {"input_shape": (3, 4)}, r"^input_shape: \[3, 4\] is not allowed for arch 'gru'"),
        ("gru", {"hidden": 0}, r"^arch_params\.hidden: 0 is not allowed; allowed: an integer >= 1"),
        ("gru", {"layers": 1.5}, r"^arch_params\.layers: 1\.5 is not allowed; allowed: an integ"),
        ("gru", {"embed_dim": -2}, r"^arch_params\.embed_dim: -2 is not allowed; allowed: an in"),
    ],
)
def test_token_models_bad_params_name_key_and_allowed(name, kwargs, message):
    kwargs = {"input_shape": (20,), "num_classes": 2, "vocab": 50, **kwargs}
    with pytest.raises(ConfigError, match=message):
        build_model(name, **kwargs)


@pytest.mark.parametrize("name", ["textcnn", "gru"])
def test_token_models_need_a_vocabulary(name):
    with pytest.raises(
        ConfigError, match=rf"^arch_params: {{}} is not allowed for arch '{name}'; .* sets vocab$"
    ):
        build_model(name, input_shape=(20,), num_classes=2)


@pytest.mark.parametrize("name", ["textcnn", "gru"])
def test_token_models_refuse_float_input(name):
    """Token models take int64 ids (``Architecture.inputs == "tokens"``); float records
    are refused by the embedding, never silently cast."""
    model = _example(name)
    tokens = _example_input(name, 2)
    assert tokens.dtype == torch.int64
    with pytest.raises(RuntimeError, match=r"indices.*Long"):
        model(tokens.float())


def test_gru_layer_equals_torch_gru():
    """Two stacked :class:`GRULayer` with ``torch.nn.GRU``'s weights give its outputs."""
    torch.manual_seed(4)
    reference = nn.GRU(6, 5, num_layers=2, batch_first=True)
    layers = [GRULayer(6, 5), GRULayer(5, 5)]
    for i, layer in enumerate(layers):
        layer.input.weight.data.copy_(getattr(reference, f"weight_ih_l{i}"))
        layer.input.bias.data.copy_(getattr(reference, f"bias_ih_l{i}"))
        layer.hidden.weight.data.copy_(getattr(reference, f"weight_hh_l{i}"))
        layer.hidden.bias.data.copy_(getattr(reference, f"bias_hh_l{i}"))
    x = torch.randn(3, 7, 6)
    states = x
    for layer in layers:
        states = layer(states)
    want, last = reference(x)
    torch.testing.assert_close(states, want, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(states[:, -1], last[-1], rtol=1e-5, atol=1e-6)


def test_gru_classifies_the_top_layers_last_state():
    torch.manual_seed(1)
    model = build_model(
        "gru", input_shape=(6,), num_classes=3, vocab=11, embed_dim=4, hidden=5, layers=2
    )
    assert [(g.input.in_features, g.hidden.in_features) for g in model.grus] == [(4, 5), (5, 5)]
    bound = 1 / 5**0.5
    assert all(p.abs().max() <= bound for g in model.grus for p in g.parameters())
    tokens = torch.randint(0, 11, (2, 6))
    states = model.embedding(tokens)
    for g in model.grus:
        states = g(states)
    torch.testing.assert_close(model(tokens), model.linear(states[:, -1]))
    default = build_model("gru", input_shape=(6,), num_classes=3, vocab=11)
    assert (default.embedding.embedding_dim, len(default.grus), default.linear.in_features) == (
        100,
        1,
        128,
    )


def test_register_architecture_refuses_bad_declarations():
    example = {"arch_params": {}, "input_shape": [2], "num_classes": 2}
    with pytest.raises(ConfigError, match=r"^arch: 'mlp' is not allowed; allowed: a name not yet"):
        register_architecture("mlp", description="again", example=example)
    with pytest.raises(ConfigError, match=r"^inputs: 'images' is not allowed; allowed: float, tok"):
        register_architecture("new", description="x", example=example, inputs="images")
    with pytest.raises(ConfigError, match=r"^example: .*allowed: arch_params, input_shape, num_c"):
        register_architecture("new", description="x", example={"arch_params": {}})
    assert "new" not in ARCHITECTURES
