"""Training-time image augmentation inside the trainers' batch path.

The LiRA recipe (Carlini et al. 2022, "Membership Inference Attacks From First
Principles", IEEE S&P, section VI-A; the reference code's ``augment`` in
research/mi_lira_2021/train.py) trains every CIFAR model on randomly flipped and shifted
images: each time a record enters a batch it is mirrored left-right with probability 1/2,
then padded by :data:`CROP_PADDING` pixels on each side by REFLECTION (the edge pixel is
not repeated: ``torch.nn.functional.pad(mode="reflect")``, as TensorFlow's ``"REFLECT"``
the reference code uses) and cropped back to its size at a uniformly random offset, 0 to
2 * padding in each direction.

Every draw comes from the model's own augmentation generator (:class:`Augmenter`,
seeded from the model's seed alone, apart from the generator of its batch order and
dropout masks), once per record that counts in the model's batch: model k's augmented
images depend on its seed and its own batches only, whichever stack it trains in, in
each epoch afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from leakbench.errors import ConfigError
from leakbench.seeding import derive_seed

AUGMENTATIONS = ("flip", "crop")
"""The augmentations a training config may name, applied in this order."""
CROP_PADDING = 4
"""Pixels of reflection padding on each side before the random crop (the LiRA recipe)."""


def check_augment(augment: Sequence[str], *, key: str = "augment") -> tuple[str, ...]:
    """``augment`` as a tuple in :data:`AUGMENTATIONS` order.

    Raises:
        ConfigError: naming ``key``, on an unknown or repeated name.
    """
    names = (augment,) if isinstance(augment, str) else tuple(augment)
    if (
        isinstance(augment, str)
        or any(name not in AUGMENTATIONS for name in names)
        or len(set(names)) != len(names)
    ):
        raise ConfigError(
            f"{key}: {list(names)!r} is not allowed; allowed: distinct names among "
            f"{', '.join(AUGMENTATIONS)} (or none)"
        )
    return tuple(name for name in AUGMENTATIONS if name in names)


def check_image_inputs(*, augment: Sequence[str], input_shape: Sequence[int], key: str) -> None:
    """Refuse augmentation of records that are not images ``[channels, height, width]``.

    Raises:
        ConfigError: naming ``key``, the value and what is allowed.
    """
    if augment and len(input_shape) != 3:
        raise ConfigError(
            f"{key}: {list(augment)!r} is not allowed for records of shape "
            f"{list(input_shape)}; allowed: [] (augmentation is for images [C, H, W] only)"
        )


@dataclass(frozen=True)
class Augmenter:
    """The trainers' augmentation: ``names`` (:data:`AUGMENTATIONS`) and model k's
    generator ``generators[k]`` (:meth:`for_seeds`)."""

    names: tuple[str, ...]
    generators: Sequence[torch.Generator]

    @classmethod
    def for_seeds(cls, names: Sequence[str], seeds: Sequence[int]) -> Augmenter | None:
        """The augmenter of models with seeds ``seeds``, each generator seeded from its
        model's seed alone; None when ``names`` is empty (batches pass unchanged)."""
        if not names:
            return None
        generators = [torch.Generator().manual_seed(derive_seed(int(s), "augment")) for s in seeds]
        return cls(check_augment(names), generators)

    def __call__(self, xb: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """:func:`augment_batch` of the stacked batch ``xb`` with these generators."""
        return augment_batch(xb, augment=self.names, counts=counts, generators=self.generators)


def flip_crop(
    images: torch.Tensor, *, flip: torch.Tensor | None, offsets: torch.Tensor | None
) -> torch.Tensor:
    """Images ``[B, C, H, W]`` mirrored where ``flip`` (bool [B]) is true, then padded by
    :data:`CROP_PADDING` (reflection) and cropped at ``offsets`` (int [B, 2]: top, left,
    each in [0, 2 * padding]); None skips a step."""
    out = images
    if flip is not None:
        out = torch.where(flip[:, None, None, None], out.flip(-1), out)
    if offsets is not None:
        height, width = out.shape[-2:]
        padded = F.pad(out, (CROP_PADDING,) * 4, mode="reflect")
        device = offsets.device
        rows = offsets[:, :1] + torch.arange(height, device=device)  # [B, H]
        cols = offsets[:, 1:] + torch.arange(width, device=device)  # [B, W]
        batch = torch.arange(out.shape[0], device=device)[:, None, None]
        # [B, H, W, C] by advanced indexing over (batch, row, col); back to [B, C, H, W].
        out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
        out = out.permute(0, 3, 1, 2)
    return out


def augment_batch(
    xb: torch.Tensor,
    *,
    augment: Sequence[str],
    counts: torch.Tensor,
    generators: Sequence[torch.Generator],
) -> torch.Tensor:
    """The stacked batch ``xb`` [K, B, C, H, W] with model k's records that count augmented.

    ``counts`` (bool [K, B]) marks the records that count in model k's loss (padding and
    an inactive model's batch do not); model k draws, from ``generators[k]``, one flip bit
    (probability 1/2) per such record when ``"flip"`` is in ``augment``, then one (top,
    left) crop offset per record, each uniform in [0, 2 * :data:`CROP_PADDING`], when
    ``"crop"`` is. The other records pass unchanged.
    """
    if not augment:
        return xb
    count, width = xb.shape[:2]
    flip = torch.zeros(count, width, dtype=torch.bool)
    offsets = torch.full((count, width, 2), CROP_PADDING)  # the centre crop: the image itself
    for k, generator in enumerate(generators):
        where = torch.nonzero(counts[k].cpu()).flatten()
        if where.numel() == 0:
            continue
        if "flip" in augment:
            flip[k, where] = torch.randint(2, (where.numel(),), generator=generator).bool()
        if "crop" in augment:
            offsets[k, where] = torch.randint(
                2 * CROP_PADDING + 1, (where.numel(), 2), generator=generator
            )
    images = flip_crop(
        xb.reshape(count * width, *xb.shape[2:]),
        flip=flip.view(-1).to(xb.device) if "flip" in augment else None,
        offsets=offsets.view(-1, 2).to(xb.device) if "crop" in augment else None,
    )
    return images.reshape(xb.shape)
