"""Architecture registry and builders."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from leakbench.errors import ConfigError, UnknownNameError
from leakbench.models import ARCHITECTURES, build_model, get_architecture


def _linear_widths(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


def test_registry_names_and_params():
    assert sorted(ARCHITECTURES) == ["cnn", "logreg", "mlp"]
    assert ARCHITECTURES["logreg"].params == ()
    assert ARCHITECTURES["mlp"].params == ("hidden",)
    assert ARCHITECTURES["cnn"].params == ("channels",)
    assert all(a.description for a in ARCHITECTURES.values())


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
        UnknownNameError, match=r"arch: unknown value 'resnet'; allowed: cnn, logreg, mlp"
    ):
        build_model("resnet", input_shape=(4,), num_classes=2)
    with pytest.raises(UnknownNameError):
        get_architecture("transformer")


def test_unknown_parameter_names_key_and_allowed():
    with pytest.raises(ConfigError, match=r"arch_params\.depth: .*allowed: hidden"):
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
