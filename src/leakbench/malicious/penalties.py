"""The malicious regularisers of Song et al. 2017, as per-model loss terms on K stacked
parameter vectors ``theta [K, l]`` (the first l parameters of each model carry the secret).

Both are the ``param_loss`` of the trainer's hooks (:class:`leakbench.training.Hooks`):
model k's term depends only on its own parameters, so K models with different lambdas
(0 for the benign one) train stacked exactly as each would alone.
"""

from __future__ import annotations

import torch


def correlation(theta: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of each model's parameters with the secret, ``[K]``.

    ``rho_k = sum_i (theta_ki - mean_k)(s_i - mean_s) /
    (sqrt(sum_i (theta_ki - mean_k)^2) sqrt(sum_i (s_i - mean_s)^2))``
    (Song et al. 2017, section 4.2, the correlated value encoding's term C).
    """
    t = theta - theta.mean(dim=1, keepdim=True)
    s = secret - secret.mean()
    return (t @ s) / (t.norm(dim=1) * s.norm())


def correlation_term(theta: torch.Tensor, secret: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """``C_k = -lambda_c,k * |rho_k|`` (section 4.2), ``[K]``: minimising it drives the
    parameters to correlate (positively or negatively) with the secret pixel values."""
    return -lam * correlation(theta, secret).abs()


def sign_term(theta: torch.Tensor, signs: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """``P_k = (lambda_s,k / l) * sum_i |max(0, -theta_ki s_i)|`` (section 4.3, the sign
    encoding's penalty), ``[K]``, with ``s_i`` in {-1, +1} (secret bit 1 -> +1): zero when
    every parameter's sign matches its bit, linear in the parameters that disagree."""
    return lam * torch.clamp(-theta * signs, min=0.0).abs().mean(dim=1)
