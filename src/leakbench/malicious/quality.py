"""How well a decoded image matches its original: mean absolute pixel error (Song et al.
2017, section 6, their image metric) and SSIM (Wang et al. 2004), per image."""

from __future__ import annotations

from math import isqrt

import numpy as np
from scipy.ndimage import uniform_filter

from leakbench.errors import ConfigError
from leakbench.malicious.secret import PIXEL_MAX

WINDOW = 7  # SSIM's square window (scikit-image's default)
K1, K2 = 0.01, 0.03


def mape(decoded: np.ndarray, original: np.ndarray) -> np.ndarray:
    """``MAPE_j = (1/d) sum_i |x^_ji - x_ji|`` in grey levels (0 .. 255), ``[n]``."""
    diff = np.asarray(decoded, dtype=np.float64) - np.asarray(original, dtype=np.float64)
    return np.abs(diff).reshape(len(diff), -1).mean(axis=1)


def image_shape(input_shape: tuple[int, ...]) -> tuple[int, int]:
    """The 2-D shape an image record is drawn and compared in: ``(C*H, W)`` for an image
    ``(C, H, W)``; for a flat record of d values, the factors h <= w of d closest to a
    square."""
    if len(input_shape) == 3:
        return input_shape[0] * input_shape[1], input_shape[2]
    d = int(np.prod(input_shape))
    h = max(f for f in range(1, isqrt(d) + 1) if d % f == 0)
    return h, d // h


def ssim(decoded: np.ndarray, original: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Mean SSIM of each image pair, ``[n]`` (Wang et al. 2004, eq. 13):
    ``SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))``
    over every 7 x 7 window that fits, with sample (co)variances, ``C1 = (0.01 * 255)^2``,
    ``C2 = (0.03 * 255)^2``, averaged over the windows (scikit-image's
    ``structural_similarity`` defaults); on images smaller than 7 pixels a side, the
    largest odd window that fits.

    Raises:
        ConfigError: for a shape with a side under 3 pixels.
    """
    window = min(WINDOW, min(shape) - (1 - min(shape) % 2))
    if window < 3:
        raise ConfigError(
            f"shape: {list(shape)} is not allowed; allowed: images of at least 3 x 3 pixels"
        )
    x = np.asarray(decoded, dtype=np.float64).reshape(-1, *shape)
    y = np.asarray(original, dtype=np.float64).reshape(-1, *shape)
    c1, c2 = (K1 * PIXEL_MAX) ** 2, (K2 * PIXEL_MAX) ** 2
    size = (1, window, window)
    correction = window**2 / (window**2 - 1)

    def mean(a: np.ndarray) -> np.ndarray:
        return uniform_filter(a, size=size, mode="reflect")

    mx, my = mean(x), mean(y)
    vx = correction * (mean(x * x) - mx * mx)
    vy = correction * (mean(y * y) - my * my)
    cxy = correction * (mean(x * y) - mx * my)
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    pad = window // 2
    return s[:, pad : shape[0] - pad, pad : shape[1] - pad].mean(axis=(1, 2))
