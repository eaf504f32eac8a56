"""Song et al. 2017: the capacity-abuse encoding's synthetic inputs and labels (section 5),
the parameter-distribution check (section 7) and both inside the study's evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from test_memorisation import ROW, _pool

from leakbench.errors import ConfigError
from leakbench.malicious import capacity as cap
from leakbench.malicious import detection, secret
from leakbench.studies import memorisation, memorisation_encodings
from leakbench.training import predict_logits


def test_bits_per_label_is_floor_log2_of_the_classes():
    assert [cap.bits_per_label(c) for c in (2, 3, 4, 10, 16, 100)] == [1, 1, 2, 3, 4, 6]
    with pytest.raises(ConfigError, match="num_classes: 1 is not allowed; allowed: at least 2"):
        cap.bits_per_label(1)


def test_synthetic_inputs_count_shape_and_key():
    x = cap.synthetic_inputs(count=7, shape=(1, 4, 4), seed=3)
    assert x.shape == (7, 1, 4, 4) and x.dtype == np.float32
    assert set(np.unique(x)) == {0.0, 1.0}  # black or white pixels
    np.testing.assert_array_equal(x, cap.synthetic_inputs(count=7, shape=(1, 4, 4), seed=3))
    assert not np.array_equal(x, cap.synthetic_inputs(count=7, shape=(1, 4, 4), seed=4))
    assert cap.synthetic_count(ratio=0.5, n_train=1001) == 500


def test_labels_encode_the_secret_and_decode_without_the_model():
    # two pixels 0b10110000 and 0b01000000 at 2 bits per pixel: 10 01 -> bits 1001;
    # 10 classes carry 3 bits per label: 100 | 1(00 padding) -> labels 4, 4, then 0
    pixels = np.array([[0b10110000, 0b01000000]], dtype=np.uint8)
    reduced = cap.reduce_pixels(pixels, 2)
    np.testing.assert_array_equal(reduced, [[2, 1]])
    bits = cap.pixel_bits_of(reduced, 2)
    np.testing.assert_array_equal(bits, [1, 0, 0, 1])
    labels = cap.labels_of_bits(bits, 10, 3)
    np.testing.assert_array_equal(labels, [4, 4, 0])
    # the receiver, from the labels alone
    read = cap.bits_of_labels(labels, 10, len(bits))
    np.testing.assert_array_equal(read, bits)
    np.testing.assert_array_equal(cap.pixels_of_bits(read, 2, (1, 2)), reduced)
    np.testing.assert_array_equal(cap.expand_pixels(reduced, 2), [[170, 85]])  # q * 255 / 3
    # a label the encoder never uses (8 = 0b1000 with 3 bits) reads as its low bits 000
    np.testing.assert_array_equal(cap.bits_of_labels(np.array([8]), 10, 3), [0, 0, 0])
    with pytest.raises(ConfigError, match="secret: 10 bits is not allowed; allowed: at most 9"):
        cap.labels_of_bits(np.zeros(10, np.uint8), 10, 3)


def test_eight_bit_pixels_round_trip_through_labels():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(3, 20), dtype=np.uint8)
    bits = cap.pixel_bits_of(cap.reduce_pixels(pixels, 8), 8)
    np.testing.assert_array_equal(bits, secret.to_bits(pixels))
    labels = cap.labels_of_bits(bits, 16, len(bits) // 4)
    assert labels.max() < 16
    back = cap.pixels_of_bits(cap.bits_of_labels(labels, 16, len(bits)), 8, pixels.shape)
    np.testing.assert_array_equal(cap.expand_pixels(back, 8), pixels)


def test_ks_statistic_on_a_hand_case_and_against_scipy():
    # F_a jumps to 1/2 at 1 and 1 at 2; F_b reaches 1/3 at 1.5, 2/3 at 3, 1 at 4:
    # |F_a - F_b| is 1/2 at 1, 1/6 at 1.5, 2/3 at 2 (1 - 1/3), 1/3 at 3: D = 2/3
    a, b = np.array([1.0, 2.0]), np.array([1.5, 3.0, 4.0])
    assert detection.ks_statistic(a, b) == pytest.approx(2 / 3)
    assert detection.ks_statistic(a, a) == 0.0
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=300), rng.normal(0.3, 1.2, size=200)
    assert detection.ks_statistic(x, y) == pytest.approx(stats.ks_2samp(x, y).statistic)


def test_threshold_flags_at_most_the_false_alarm_rate_of_benign_models():
    null = np.array([0.5, 0.1, 0.3, 0.2, 0.4])
    # alpha 0.2 over 5: the ceil(0.8 * 5) = 4th smallest, 0.4; only 0.5 exceeds it
    assert detection.threshold(null, 0.2) == 0.4
    assert detection.threshold(null, 0.5) == 0.3  # ceil(2.5) = 3rd smallest
    assert (null > detection.threshold(null, 0.2)).mean() <= 0.2
    with pytest.raises(ConfigError, match="allowed: at least 1 benign model"):
        detection.threshold(np.array([]), 0.1)


def test_histogram_counts_fractions_and_clips_to_the_end_bins():
    edges = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(
        detection.histogram(np.array([-5.0, 0.5, 1.5, 1.7]), edges), [0.5, 0.5]
    )


def test_capacity_abuse_trains_in_the_stack_and_decodes_by_queries():

    study = {
        "recovered_mape": 20.0,
        "shown": 2,
        "detection": {"benign_models": 3, "false_alarm": 0.4},
        "encodings": [
            {"encoding": "capacity", "ratio": 1.0, "pixel_bits": 1},
            {"encoding": "sign", "lambda": 100.0},
        ],
    }
    row = {**ROW, "epochs": 30, "lr": 0.02}
    pool = _pool()
    split = memorisation.make_split(n_pool=len(pool), row=row, seed=1)
    models = memorisation.train(pool=pool, split=split, row=row, study=study, seed=7)
    assert models.count == 1 + 2 + 4
    first, arrays = memorisation.evaluate(
        pool=pool, split=split, models=models, study=study, seed=2
    )
    again, _ = memorisation.evaluate(pool=pool, split=split, models=models, study=study, seed=2)
    assert first == again
    rows = {r["label"]: r for r in first["encodings"]}
    capacity_row = rows["capacity-r1-p1"]
    # 60 training records, 3 classes: 60 labels of 1 bit hold one 49-pixel image at 1 bit
    assert capacity_row["images"] == 1
    # the decoder's bits are the labels the model predicts on the regenerated inputs
    sizes = memorisation_encodings.Sizes(n_params=427, pixels=49, n_train=60, num_classes=3)
    original = secret.quantise(pool.x[split.train])[:1]
    data = memorisation.synthetic_set(
        encoding=study["encodings"][0], original=original, sizes=sizes, shape=(49,), seed=7
    )
    assert data.x.shape == (60, 49) and set(np.unique(data.y)) <= {0, 1}
    truth = cap.pixel_bits_of(cap.reduce_pixels(original, 1), 1)
    np.testing.assert_array_equal(data.y[: len(truth)], truth)  # 1 bit per label
    # slot 1 is the capacity model; label 2 (unused by 1-bit labels) reads as its low bit
    predicted = predict_logits(models, data.x)[1].argmax(axis=1) % 2
    assert capacity_row["bits_flipped"] == pytest.approx(np.mean(predicted[:49] != truth))
    assert capacity_row["bits_flipped"] < 0.5  # the model learnt more than chance
    decoded = cap.expand_pixels(predicted[:49].reshape(1, 49).astype(np.uint8), 1)
    np.testing.assert_array_equal(arrays["capacity-r1-p1"], decoded)
    for label in ("capacity-r1-p1", "sign-l100"):
        assert f"hist_{label}" in arrays
        assert arrays[f"hist_{label}"].sum() == pytest.approx(1.0)
        assert capacity_row["detected"] == (capacity_row["ks"] > first["detection"]["threshold"])
    assert len(first["detection"]["null_ks"]) == 3
