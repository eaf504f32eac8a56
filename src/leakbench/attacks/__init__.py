"""Membership attacks, registered by the names configs use.

To add an attack: write a module here (or a function in :mod:`.threshold`) with
``run(inp: AttackInput, *, seed: int, **params) -> AttackResult`` (pure; every random draw
from ``seed``; unknown or bad ``params`` raise :class:`~leakbench.errors.ConfigError`
naming the parameter), then register an :class:`AttackSpec` for it in :data:`ATTACKS`.
"""

from __future__ import annotations

from leakbench.attacks import shokri, threshold
from leakbench.attacks.base import AttackInput, AttackResult, AttackSpec
from leakbench.errors import UnknownNameError

ATTACKS: dict[str, AttackSpec] = {
    spec.name: spec
    for spec in (
        AttackSpec(
            name="shokri",
            run=shokri.run,
            needs_shadows=True,
            description="shadow models; one attack model per class on the prediction vector",
            reference="Shokri et al. 2017, IEEE S&P, section V",
        ),
        AttackSpec(
            name="confidence",
            run=threshold.confidence,
            needs_shadows=False,
            description="threshold on the max posterior, set from random noise queries",
            reference="Salem et al. 2019, NDSS (ML-Leaks), section 7, adversary 3",
        ),
        AttackSpec(
            name="loss",
            run=threshold.loss,
            needs_shadows=False,
            description="threshold on the cross-entropy at the mean training loss",
            reference="Yeom et al. 2018, IEEE CSF, section 3.2",
        ),
    )
}


def get_attack(name: str) -> AttackSpec:
    """The attack registered under ``name``.

    Raises:
        UnknownNameError: naming the key ``attacks``, the value and the registered names.
    """
    if name not in ATTACKS:
        raise UnknownNameError("attacks", name, ATTACKS)
    return ATTACKS[name]


__all__ = ["ATTACKS", "AttackInput", "AttackResult", "AttackSpec", "get_attack"]
