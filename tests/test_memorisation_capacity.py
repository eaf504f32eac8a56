"""Song et al. 2017: the capacity-abuse encoding's synthetic inputs and labels (section 5),
the parameter-distribution check (section 7) with its step-matched control, and both inside
the study's evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from test_memorisation import ROW, _pool

from leakbench.errors import ConfigError
from leakbench.malicious import capacity as cap
from leakbench.malicious import detection, secret
from leakbench.studies import memorisation, memorisation_controls, memorisation_encodings
from leakbench.training import TrainConfig, predict_logits, train_stacked
from leakbench.training.samplers import RaggedEpochSampler


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
    # benign, capacity, sign; reference and 3 benign; the capacity model's control set of 4
    assert models.count == 1 + 2 + 4 + 4
    first, arrays = memorisation.evaluate(
        pool=pool, split=split, models=models, row=row, study=study, seed=2
    )
    again, _ = memorisation.evaluate(
        pool=pool, split=split, models=models, row=row, study=study, seed=2
    )
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
    # against the step-matched control: its own reference and its own threshold
    control = first["detection"]["controls"]["capacity-r1-p1"]
    assert len(control["null_ks"]) == 3
    assert capacity_row["detected_matched"] == (capacity_row["ks_matched"] > control["threshold"])
    reference = memorisation.flatten(models.params).numpy()[7]
    assert capacity_row["ks_matched"] == detection.ks_statistic(
        memorisation.flatten(models.params).numpy()[1], reference
    )
    assert arrays["hist_capacity-r1-p1-control"].sum() == pytest.approx(1.0)
    # the sign model trains as long as the benign one: its matched reference is the benign one
    assert rows["sign-l100"]["ks_matched"] == rows["sign-l100"]["ks"]
    assert rows["sign-l100"]["detected_matched"] == rows["sign-l100"]["detected"]
    # 30 epochs of 16-record batches: 60 records take 4 a pass, 120 take 8
    assert rows["sign-l100"]["steps"] == first["detection"]["steps"] == 30 * 4
    assert capacity_row["steps"] == control["steps"] == 30 * 8


def test_repeated_records_wrap_around_to_the_count():
    np.testing.assert_array_equal(
        memorisation_controls.repeated(np.array([3, 5, 9]), 7), [3, 5, 9, 3, 5, 9, 3]
    )
    np.testing.assert_array_equal(memorisation_controls.repeated(np.array([3, 5, 9]), 2), [3, 5])


@pytest.mark.parametrize(("ratio", "extra"), [(1.0, 60), (0.5, 30)])
def test_control_takes_as_many_steps_as_the_capacity_model(ratio, extra):
    # ROW: 60 training records, 2 epochs, batches of 16; ratio r adds floor(60 r) rows
    study = {
        "detection": {"benign_models": 2, "false_alarm": 0.5},
        "encodings": [
            {"encoding": "sign", "lambda": 10.0},
            {"encoding": "capacity", "ratio": ratio, "pixel_bits": 1},
        ],
    }
    pool = _pool()
    split = memorisation.make_split(n_pool=len(pool), row=ROW, seed=1)
    data = memorisation.stack_data(pool=pool, split=split, row=ROW, study=study, seed=7)
    layout = memorisation_controls.slots(study)
    assert layout.count == 1 + 2 + 3 + 3
    control = layout.control("capacity-r" + f"{ratio:g}" + "-p1")
    assert list(control) == [6, 7, 8]
    counts = data.keep.sum(axis=1)
    # benign, sign, reference and null: 60 rows; capacity and its control: 60 + extra
    assert list(counts) == [60, 60] + [60 + extra] + [60] * 3 + [60 + extra] * 3
    steps = RaggedEpochSampler(2, 16, tuple(int(c) for c in counts)).steps
    hand = 2 * -(-(60 + extra) // 16)  # 2 * ceil(120 / 16) = 16, 2 * ceil(90 / 16) = 12
    assert hand == {60: 16, 30: 12}[extra]
    assert steps[2] == steps[6] == steps[7] == steps[8] == hand
    assert steps[0] == 2 * 4
    assert memorisation.stack_steps(pool=pool, split=split, row=ROW, study=study, seed=7) == list(
        steps
    )
    # the control's extra rows are real training records with their own labels, the
    # capacity model's are synthetic; each model sees only its own
    order = np.sort(split.train)
    own = data.keep[6] & ~data.keep[0]
    np.testing.assert_array_equal(data.x[own], pool.x[np.resize(order, extra)])
    np.testing.assert_array_equal(data.y[own], pool.y[np.resize(order, extra)])
    assert not (data.keep[2] & data.keep[6] & ~data.keep[0]).any()
    # the control set starts from the threshold models' seeds: only the length differs
    assert data.seeds[6:] == data.seeds[3:6] == memorisation.benign_seeds(seed=7, study=study)
    assert data.lambdas_s == [0.0, 10.0] + [0.0] * 7


def test_control_reference_is_the_model_trained_alone_on_the_repeated_records():
    study = {
        "detection": {"benign_models": 1, "false_alarm": 0.5},
        "encodings": [{"encoding": "capacity", "ratio": 0.5, "pixel_bits": 1}],
    }
    pool = _pool()
    split = memorisation.make_split(n_pool=len(pool), row=ROW, seed=1)
    models = memorisation.train(pool=pool, split=split, row=ROW, study=study, seed=7)
    order = np.sort(split.train)
    rows = np.concatenate([order, np.resize(order, 30)])
    seed = memorisation.benign_seeds(seed=7, study=study)[0]
    alone = train_stacked(
        arch="mlp",
        arch_params={"hidden": [8]},
        x=pool.x[rows],
        y=pool.y[rows],
        num_classes=3,
        keep=np.ones((1, len(rows)), dtype=bool),
        seeds=[seed],
        config=TrainConfig.from_row(ROW),
    )
    slot = memorisation_controls.slots(study).control("capacity-r0.5-p1").start
    for name, value in models.params.items():
        torch.testing.assert_close(value[slot], alone.params[name][0], rtol=1e-5, atol=1e-6)
