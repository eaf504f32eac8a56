"""Song et al. 2017: bit views, LSB encoding and its countermeasure, the correlation and
sign terms, decoding, image quality, stacked malicious training and the study's refusal of
bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import yaml

from leakbench import metrics
from leakbench.config import load_config
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.malicious import decode, lsb, penalties, quality, secret
from leakbench.studies import memorisation, memorisation_encodings
from leakbench.training import TrainConfig, predict_logits, train_stacked


def test_float_words_round_trip_bit_for_bit():
    rng = np.random.default_rng(0)
    special = np.array([0.0, -0.0, 1e-45, -3.4e38, np.inf, -np.inf], dtype=np.float32)
    params = np.concatenate([rng.standard_normal(1000).astype(np.float32), special])
    words = lsb.to_words(params)
    assert words.dtype == np.uint32
    assert words[params.size - 6 + 2] == 1  # the smallest subnormal is the word 1
    assert words[params.size - 6 + 1] == 0x80000000  # -0.0: only the sign bit
    assert lsb.from_words(words).tobytes() == params.tobytes()


@pytest.mark.parametrize("bits", [1, 7, 8, 16, 20, 23])
def test_lsb_decodes_the_secret_bit_for_bit_and_keeps_the_high_bits(bits):
    rng = np.random.default_rng(bits)
    params = rng.standard_normal(500).astype(np.float32)
    secret_bits = rng.integers(0, 2, size=500 * bits - 3, dtype=np.uint8)
    encoded = lsb.encode(params, secret_bits, bits)
    np.testing.assert_array_equal(lsb.decode(encoded, bits, len(secret_bits)), secret_bits)
    high = ~np.uint32((1 << bits) - 1)
    np.testing.assert_array_equal(lsb.to_words(encoded) & high, lsb.to_words(params) & high)


def test_lsb_writes_the_bits_most_significant_first():
    # b = 4 over two parameters: 1011 then 0100; the second parameter's low nibble is 0100.
    params = np.array([1.0, 1.0, 1.0], dtype=np.float32)
    encoded = lsb.encode(params, np.array([1, 0, 1, 1, 0, 1], dtype=np.uint8), 4)
    assert [int(w) & 0xF for w in lsb.to_words(encoded)] == [0b1011, 0b0100, 0]
    assert lsb.to_words(encoded)[2] == lsb.to_words(params)[2]  # beyond the secret


def test_randomising_the_low_bits_destroys_the_secret_and_keeps_the_rest():
    rng = np.random.default_rng(1)
    params = rng.standard_normal(4000).astype(np.float32)
    secret_bits = np.zeros(4000 * 8, dtype=np.uint8)
    noisy = lsb.randomise(lsb.encode(params, secret_bits, 8), 8, np.random.default_rng(2))
    decoded = lsb.decode(noisy, 8, len(secret_bits))
    assert 0.45 < decoded.mean() < 0.55  # about half the zero bits now read 1
    np.testing.assert_array_equal(lsb.to_words(noisy) >> 8, lsb.to_words(params) >> 8)
    assert np.abs(noisy - params).max() <= np.abs(params).max() * 2.0**-15


@pytest.mark.parametrize("bits", [0, 24, True])
def test_lsb_refuses_bits_outside_the_mantissa(bits):
    with pytest.raises(
        ConfigError, match=rf"bits: {bits!r} is not allowed; allowed: an integer in 1 \.\. 23"
    ):
        lsb.encode(np.zeros(4, np.float32), np.zeros(4, np.uint8), bits)


def test_lsb_refuses_a_secret_larger_than_its_capacity():
    with pytest.raises(ConfigError, match="secret: 9 bits is not allowed; allowed: at most 8"):
        lsb.encode(np.zeros(4, np.float32), np.zeros(9, np.uint8), 2)


def test_pixels_quantise_to_bytes_and_bits_round_trip():
    records = np.array([[0.0, 1.0, 0.5, 0.2]], dtype=np.float32)
    pixels = secret.quantise(records)
    np.testing.assert_array_equal(pixels, [[0, 255, 128, 51]])  # round(255 x)
    bits = secret.to_bits(pixels)
    np.testing.assert_array_equal(bits[:16], [0] * 8 + [1] * 8)
    np.testing.assert_array_equal(secret.from_bits(bits, pixels.shape), pixels)


def test_correlation_term_on_hand_cases():
    secret_values = torch.tensor([2.0, 4.0, 6.0])
    theta = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [1.0, 0.0, 1.0]])
    # rho = +1, -1 and 0 (the third is symmetric about the secret's middle value)
    torch.testing.assert_close(
        penalties.correlation(theta, secret_values), torch.tensor([1.0, -1.0, 0.0])
    )
    lam = torch.tensor([2.0, 0.5, 1.0])
    torch.testing.assert_close(
        penalties.correlation_term(theta, secret_values, lam), torch.tensor([-2.0, -0.5, 0.0])
    )


def test_correlation_term_gradient_matches_the_closed_form_and_autograd():
    g = torch.Generator().manual_seed(3)
    theta = torch.randn(2, 50, generator=g, dtype=torch.float64, requires_grad=True)
    s = torch.rand(50, generator=g, dtype=torch.float64) * 255
    lam = torch.tensor([1.5, 0.0], dtype=torch.float64)
    penalties.correlation_term(theta, s, lam).sum().backward()
    # d|rho|/dtheta = sign(rho) (s_c / (|t_c| |s_c|) - rho t_c / |t_c|^2), t_c, s_c centred
    t = theta.detach() - theta.detach().mean(dim=1, keepdim=True)
    sc = s - s.mean()
    rho = (t @ sc) / (t.norm(dim=1) * sc.norm())
    closed = (
        sc / (t.norm(dim=1, keepdim=True) * sc.norm())
        - rho[:, None] * t / t.norm(dim=1, keepdim=True) ** 2
    )
    expected = -lam[:, None] * torch.sign(rho)[:, None] * closed
    torch.testing.assert_close(theta.grad, expected)
    assert torch.autograd.gradcheck(
        lambda th: penalties.correlation_term(th, s, lam), (theta.detach().requires_grad_(),)
    )


def test_sign_penalty_on_a_hand_built_case():
    theta = torch.tensor([[0.5, -0.2, 0.3, -0.4], [0.5, 0.2, -0.3, -0.4]])
    signs = torch.tensor([1.0, 1.0, -1.0, -1.0])  # secret bits 1, 1, 0, 0
    # model 0: -0.2 against +1 costs 0.2, 0.3 against -1 costs 0.3: (2 / 4) * 0.5 = 0.25;
    # model 1 agrees everywhere: 0
    torch.testing.assert_close(
        penalties.sign_term(theta, signs, torch.tensor([2.0, 2.0])), torch.tensor([0.25, 0.0])
    )
    bits = decode.signs_to_bits(theta[0].numpy())
    np.testing.assert_array_equal(bits, [1, 0, 1, 0])
    assert decode.flipped_fraction(bits, np.array([1, 1, 0, 0])) == 0.5


def test_value_decoding_maps_each_image_onto_grey_levels_or_its_inverse():
    theta = np.array([-1.0, 0.0, 1.0, 3.0, 5.0, 4.0])
    # 255 * 0.5 = 127.5 rounds half to even: 128 both ways
    np.testing.assert_array_equal(
        decode.values_to_pixels(theta, 3, invert=False), [[0, 128, 255], [0, 255, 128]]
    )
    np.testing.assert_array_equal(
        decode.values_to_pixels(theta, 3, invert=True), [[255, 128, 0], [255, 0, 128]]
    )


def test_mean_absolute_pixel_error_and_ssim_on_hand_cases():
    a = np.array([[0, 10, 20, 30]], dtype=np.uint8)
    b = np.array([[2, 10, 14, 30]], dtype=np.uint8)
    np.testing.assert_allclose(quality.mape(a, b), [2.0])  # (2 + 0 + 6 + 0) / 4
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, size=(1, 7, 7)).astype(np.float64)
    y = np.clip(x + rng.normal(0, 30, size=x.shape), 0, 255)
    # one 7 x 7 window: SSIM from the sample means, variances and covariance
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(ddof=1), y.var(ddof=1)
    cxy = ((x - mx) * (y - my)).sum() / (x.size - 1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    hand = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    np.testing.assert_allclose(quality.ssim(x, y, (7, 7)), [hand])
    np.testing.assert_allclose(quality.ssim(x, x, (7, 7)), [1.0])
    assert quality.image_shape((1, 28, 28)) == (28, 28)
    assert quality.image_shape((600,)) == (24, 25)
    # a 5 x 5 image: one 5 x 5 window
    x5, y5 = x[:, :5, :5], y[:, :5, :5]
    m5x, m5y = x5.mean(), y5.mean()
    c5 = ((x5 - m5x) * (y5 - m5y)).sum() / 24
    hand5 = ((2 * m5x * m5y + c1) * (2 * c5 + c2)) / (
        (m5x**2 + m5y**2 + c1) * (x5.var(ddof=1) + y5.var(ddof=1) + c2)
    )
    np.testing.assert_allclose(quality.ssim(x5, y5, (5, 5)), [hand5])
    with pytest.raises(ConfigError, match=r"shape: \[2, 8\] is not allowed"):
        quality.ssim(np.zeros((1, 16)), np.zeros((1, 16)), (2, 8))


def test_capacity_of_each_encoding():
    sizes = memorisation_encodings.Sizes(n_params=1000, pixels=10, n_train=300, num_classes=10)
    enc = {"encoding": "lsb", "bits": 20}
    assert memorisation_encodings.capacity(encoding=enc, sizes=sizes) == 250  # 20000 / 80
    enc = {"encoding": "correlation", "lambda": 1.0}
    assert memorisation_encodings.capacity(encoding=enc, sizes=sizes) == 100
    enc = {"encoding": "sign", "lambda": 1.0}
    assert memorisation_encodings.capacity(encoding=enc, sizes=sizes) == 12
    # 150 synthetic labels x 3 bits (10 classes) = 450 bits; 10 pixels x 4 bits per image
    enc = {"encoding": "capacity", "ratio": 0.5, "pixel_bits": 4}
    assert memorisation_encodings.capacity(encoding=enc, sizes=sizes) == 11


def _pool(n: int = 120, d: int = 49) -> Pool:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, size=n)
    x = (rng.random((n, d)) * 0.5 + y[:, None] * 0.25).astype(np.float32) / 1.5
    return Pool(
        x=x,
        y=y.astype(np.int64),
        properties={},
        feature_names=tuple(f"f{i}" for i in range(d)),
        num_classes=3,
    )


ROW = {
    "dataset": "toy",
    "variant": "mlp",
    "arch": "mlp",
    "arch_params": {"hidden": [8]},
    "records": 100,
    "train_fraction": 0.6,
    "epochs": 2,
    "batch_size": 16,
    "lr": 0.01,
    "weight_decay": 0.0,
    "optimizer": "adam",
}
STUDY = {
    "recovered_mape": 20.0,
    "shown": 2,
    "detection": {"benign_models": 3, "false_alarm": 0.4},
    "encodings": [
        {"encoding": "lsb", "bits": 8},
        {"encoding": "correlation", "lambda": 5.0},
        {"encoding": "sign", "lambda": 100.0},
    ],
}


def test_malicious_models_train_stacked_as_each_would_alone():
    pool = _pool()
    split = memorisation.make_split(n_pool=len(pool), row=ROW, seed=1)
    stacked = memorisation.train(pool=pool, split=split, row=ROW, study=STUDY, seed=7)
    assert stacked.count == 3 + 4  # benign, correlation, sign; reference and 3 benign
    for k, encoding in enumerate(STUDY["encodings"][1:], start=1):
        alone = {**STUDY, "encodings": [encoding]}
        single = memorisation.train(pool=pool, split=split, row=ROW, study=alone, seed=7)
        for name, value in stacked.params.items():
            torch.testing.assert_close(value[k], single.params[name][1], rtol=1e-5, atol=1e-6)
    seeds = [7, *memorisation.benign_seeds(seed=7, study=STUDY)]
    assert len(set(seeds)) == len(seeds)  # the detection's benign models are independent
    benign = train_stacked(
        arch="mlp",
        arch_params={"hidden": [8]},
        x=pool.x,
        y=pool.y,
        num_classes=3,
        keep=np.repeat(np.isin(np.arange(len(pool)), split.train)[None], len(seeds), axis=0),
        seeds=seeds,
        config=TrainConfig.from_row(ROW),
    )
    for name, value in stacked.params.items():
        torch.testing.assert_close(value[0], benign.params[name][0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(value[3:], benign.params[name][1:], rtol=1e-5, atol=1e-6)


def test_evaluation_decodes_lsb_exactly_and_reruns_identically():
    pool = _pool()
    split = memorisation.make_split(n_pool=len(pool), row=ROW, seed=1)
    models = memorisation.train(pool=pool, split=split, row=ROW, study=STUDY, seed=7)
    first, arrays = memorisation.evaluate(
        pool=pool, split=split, models=models, row=ROW, study=STUDY, seed=2
    )
    again, arrays_again = memorisation.evaluate(
        pool=pool, split=split, models=models, row=ROW, study=STUDY, seed=2
    )
    assert first == again
    assert all(np.array_equal(arrays[k], arrays_again[k]) for k in arrays)
    rows = {row["label"]: row for row in first["encodings"]}
    assert set(rows) == {"lsb-b8", "lsb-b8-randomised", "correlation-l5", "sign-l100"}
    n_params = 49 * 8 + 8 + 8 * 3 + 3
    assert rows["lsb-b8"]["images"] == n_params * 8 // (49 * 8)
    assert rows["lsb-b8"]["mape"] == 0.0 and rows["lsb-b8"]["bits_flipped"] == 0.0
    assert rows["lsb-b8"]["recovered"] == rows["lsb-b8"]["images"]
    assert rows["lsb-b8-randomised"]["bits_flipped"] > 0.3
    assert rows["correlation-l5"]["bits_flipped"] is None
    np.testing.assert_array_equal(arrays["lsb-b8"], arrays["original"])


def _config(repo_root, tmp_path, change):
    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    change(config["memorisation"])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(config)))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["encodings"][0].update(bits=24),
            "memorisation.encodings.0.bits: 24 is greater than the maximum of 23",
        ),
        (
            lambda s: s["encodings"][0].update(bits=0),
            "memorisation.encodings.0.bits: 0 is less than the minimum of 1",
        ),
        (
            lambda s: s["encodings"][2].update({"lambda": -1.0}),
            "memorisation.encodings.2.lambda: -1.0 is less than the minimum of 0",
        ),
        (
            lambda s: s["encodings"][0].update(encoding="jpeg"),
            "memorisation.encodings.0.encoding: 'jpeg' is not one of "
            "['lsb', 'correlation', 'sign', 'capacity']",
        ),
        (
            lambda s: s["encodings"][2].update(images=10),
            "memorisation.encodings.2.images: 10 is not allowed; allowed: at most 9 "
            "(correlation-l3 holds 9 images",
        ),
        (
            lambda s: s["encodings"][0].update({"lambda": 1.0}),
            "memorisation.encodings.0: Additional properties are not allowed ('lambda' was "
            "unexpected); allowed keys: bits, encoding, images",
        ),
        (
            lambda s: s["encodings"][3].pop("lambda"),
            "memorisation.encodings.3: 'lambda' is a required property",
        ),
        (
            lambda s: s["encodings"][4].update(bits=8),
            "memorisation.encodings.4: Additional properties are not allowed ('bits' was "
            "unexpected); allowed keys: encoding, images, pixel_bits, ratio",
        ),
        (
            lambda s: s["encodings"][4].pop("ratio"),
            "memorisation.encodings.4: 'ratio' is a required property",
        ),
        (
            lambda s: s["encodings"][4].update(ratio=0.0),
            "memorisation.encodings.4.ratio: 0.0 is less than or equal to the minimum of 0",
        ),
        (
            lambda s: s["encodings"][4].update(pixel_bits=9),
            "memorisation.encodings.4.pixel_bits: 9 is greater than the maximum of 8",
        ),
        (
            lambda s: s["encodings"][4].update(images=2),
            "memorisation.encodings.4.images: 2 is not allowed; allowed: at most 1 "
            "(capacity-r1-p1 holds 1 images of 600 pixels in 100 synthetic labels of 6 bits",
        ),
        (
            lambda s: s["encodings"][4].update(ratio=0.5),
            "memorisation.encodings.4: capacity-r0.5-p1 is not allowed with "
            "memorisation.grid.0; allowed: an encoding whose capacity holds one image",
        ),
        (
            lambda s: s.update(detection={"false_alarm": 1.0}),
            "memorisation.detection.false_alarm: 1.0 is greater than or equal to the maximum of 1",
        ),
        (
            lambda s: s["encodings"].append({"encoding": "lsb", "bits": 8}),
            "memorisation.encodings.5: lsb-b8 is not allowed; allowed: each encoding and "
            "parameter once",
        ),
    ],
)
def test_bad_input_is_refused_before_training(repo_root, tmp_path, change, message):
    path = _config(repo_root, tmp_path, change)
    with pytest.raises(ConfigError) as err:
        load_config(path, repo_root / "workflow/schemas/config.schema.yaml")
    assert message in str(err.value)


def test_check_study_refuses_bits_and_lambda_without_the_schema():
    base = {"grid": [], "encodings": [{"encoding": "lsb", "bits": 30}]}
    with pytest.raises(ConfigError, match=r"memorisation\.encodings\.0\.bits: 30 is not allowed"):
        memorisation_encodings.check_study(study=base, datasets={})
    base["encodings"] = [{"encoding": "sign", "lambda": -2.0}]
    with pytest.raises(
        ConfigError,
        match=r"memorisation.encodings.0.lambda: -2.0 is not allowed; allowed: a number >= 0",
    ):
        memorisation_encodings.check_study(study=base, datasets={})


def test_flat_parameter_vectors_rebuild_the_models_they_came_from():
    pool = _pool()
    split = memorisation.make_split(n_pool=len(pool), row=ROW, seed=1)
    models = memorisation.train(pool=pool, split=split, row=ROW, study=STUDY, seed=7)
    flat = memorisation.flatten(models.params).numpy()
    assert flat.shape == (3 + 4, 49 * 8 + 8 + 8 * 3 + 3)
    logits = predict_logits(models, pool.x[split.test])
    direct = [metrics.accuracy(logits=lg, labels=pool.y[split.test]) for lg in logits]
    assert memorisation._accuracies(models, flat, pool, split) == direct
    assert len(set(direct)) > 1 or flat[0].tolist() != flat[1].tolist()
