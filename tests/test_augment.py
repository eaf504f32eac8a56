"""Training-time image augmentation (the LiRA recipe's flip and reflect-padded crop)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import ARCHS, CLASSES, random_data

from leakbench.errors import ConfigError
from leakbench.training import TrainConfig, train_sequential, train_stacked
from leakbench.training.augment import (
    CROP_PADDING,
    Augmenter,
    augment_batch,
    check_augment,
    flip_crop,
)

pytestmark = pytest.mark.usefixtures("deterministic_torch")

IMAGE = torch.arange(36, dtype=torch.float32).view(1, 1, 6, 6)  # one 6x6 image, pixel = 6i + j


def test_flip_mirrors_left_right():
    out = flip_crop(IMAGE.repeat(2, 1, 1, 1), flip=torch.tensor([True, False]), offsets=None)
    assert out[0, 0, 2].tolist() == [17.0, 16.0, 15.0, 14.0, 13.0, 12.0]  # row 2 reversed
    assert torch.equal(out[1], IMAGE[0])


def test_crop_at_the_centre_is_the_image_and_off_centre_reflects():
    centre = torch.tensor([[CROP_PADDING, CROP_PADDING]])
    assert torch.equal(flip_crop(IMAGE, flip=None, offsets=centre), IMAGE)
    # top 4 (no vertical shift), left 5: the view moves one pixel right; the last column
    # is the reflection of column 5 about the edge, column 4 (the edge pixel not repeated).
    out = flip_crop(IMAGE, flip=None, offsets=torch.tensor([[4, 5]]))
    assert out[0, 0, 0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 4.0]
    # top 0, left 0: four pixels down and right; row r of the padded image is row |r - 4|.
    out = flip_crop(IMAGE, flip=None, offsets=torch.tensor([[0, 0]]))
    assert out[0, 0, 0].tolist() == [28.0, 27.0, 26.0, 25.0, 24.0, 25.0]  # row 4, cols 4..0, 1
    assert out[0, 0, :, 4].tolist() == [24.0, 18.0, 12.0, 6.0, 0.0, 6.0]  # col 0, rows 4..0, 1


def test_flip_comes_before_crop():
    out = flip_crop(IMAGE, flip=torch.tensor([True]), offsets=torch.tensor([[4, 5]]))
    assert out[0, 0, 0].tolist() == [4.0, 3.0, 2.0, 1.0, 0.0, 1.0]  # row 0 mirrored, then moved


def test_draws_cover_both_flips_and_every_offset_and_skip_records_that_do_not_count():
    n, span = 1000, 2 * CROP_PADDING + 1
    xb = torch.rand(2, n, 1, 6, 6)
    counts = torch.ones(2, n, dtype=torch.bool)
    counts[1, n // 2 :] = False  # padding of model 1
    generators = [torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)]
    out = augment_batch(xb, augment=("crop",), counts=counts, generators=generators)
    assert torch.equal(out[1, n // 2 :], xb[1, n // 2 :])
    padded = torch.nn.functional.pad(xb[0, :, 0], (CROP_PADDING,) * 4, mode="reflect")
    hits = torch.stack(
        [
            (out[0, :, 0] == padded[:, top : top + 6, left : left + 6]).all(dim=(1, 2))
            for top in range(span)
            for left in range(span)
        ]
    )
    assert (hits.sum(dim=0) == 1).all()  # each record is exactly one crop of its padding
    assert (hits.sum(dim=1) > 0).all()  # every offset drawn
    flips = augment_batch(xb, augment=("flip",), counts=counts, generators=generators)
    mirrored = (flips[0] == xb[0].flip(-1)).flatten(1).all(dim=1)
    assert 400 < int(mirrored.sum()) < 600  # probability 1/2


def test_a_model_draws_from_its_own_generator_whatever_the_stack():
    xb = torch.rand(3, 16, 1, 6, 6)
    counts = torch.ones(3, 16, dtype=torch.bool)
    stack = Augmenter.for_seeds(["flip", "crop"], [7, 8, 9])
    alone = Augmenter.for_seeds(["flip", "crop"], [8])
    assert stack is not None and alone is not None
    together = stack(xb, counts)
    assert torch.equal(together[1:2], alone(xb[1:2], counts[1:2]))
    assert not torch.equal(together[0], together[1])  # the models draw differently
    again = Augmenter.for_seeds(["crop", "flip"], [7, 8, 9])
    assert again is not None and torch.equal(again(xb, counts), together)  # seeded
    assert Augmenter.for_seeds([], [7]) is None


@pytest.mark.parametrize(
    ("augment", "message"),
    [
        (
            ["rotate"],
            r"augment: \['rotate'\] is not allowed; allowed: distinct names among flip, crop",
        ),
        (["flip", "flip"], r"augment: \['flip', 'flip'\] is not allowed"),
        ("flip", r"augment: \['flip'\] is not allowed"),
    ],
)
def test_bad_augmentation_names_are_refused(augment, message):
    with pytest.raises(ConfigError, match=message):
        check_augment(augment)
    with pytest.raises(ConfigError, match=message):
        TrainConfig(epochs=1, batch_size=4, lr=0.1, augment=augment)


def test_augmentation_of_records_that_are_not_images_is_refused():
    params, shape = ARCHS["mlp"]
    x, y = random_data(shape, n=20)
    config = TrainConfig(epochs=1, batch_size=4, lr=0.1, augment=("flip",))
    for trainer in (train_stacked, train_sequential):
        with pytest.raises(
            ConfigError,
            match=r"augment: \['flip'\] is not allowed for records of shape \[7\]; allowed: \[\]",
        ):
            trainer(
                arch="mlp",
                arch_params=params,
                x=x,
                y=y,
                num_classes=CLASSES,
                keep=np.ones((1, 20), dtype=bool),
                seeds=[1],
                config=config,
            )


def _train(trainer, keep, seeds, augment):
    params, shape = ARCHS["cnn"]
    x, y = random_data(shape, n=40)
    return trainer(
        arch="cnn",
        arch_params=params,
        x=x,
        y=y,
        num_classes=CLASSES,
        keep=keep,
        seeds=seeds,
        config=TrainConfig(epochs=2, batch_size=8, lr=0.05, augment=augment),
    )


def _ragged_keep():
    keep = np.zeros((3, 40), dtype=bool)
    for row, members, seed in zip(keep, (11, 23, 17), (1, 2, 3), strict=True):
        row[np.random.default_rng(seed).choice(40, members, replace=False)] = True
    return keep


def test_augmented_stack_equals_each_model_alone_and_reruns_identically():
    keep, seeds = _ragged_keep(), [3, 4, 5]
    stacked = _train(train_stacked, keep, seeds, ("flip", "crop"))
    sequential = _train(train_sequential, keep, seeds, ("flip", "crop"))
    for name, p in stacked.params.items():
        torch.testing.assert_close(p, sequential.params[name], rtol=1e-5, atol=1e-5)
    alone = _train(train_stacked, keep[1:2], seeds[1:2], ("flip", "crop"))
    for name, p in stacked.params.items():
        torch.testing.assert_close(p[1], alone.params[name][0], rtol=1e-6, atol=1e-6)
    again = _train(train_stacked, keep, seeds, ("flip", "crop"))
    assert all(torch.equal(p, again.params[n]) for n, p in stacked.params.items())
    plain = _train(train_stacked, keep, seeds, ())
    assert all(not torch.allclose(p, plain.params[n]) for n, p in stacked.params.items())
