"""Membership attacks, registered by the names configs use.

To add an attack: write a module here with ``run(inp: AttackInput, *, seed, **params) ->
AttackResult`` and add an :class:`AttackSpec` for it to :data:`ATTACKS`.
"""

from __future__ import annotations

from leakbench.attacks.base import AttackInput, AttackResult, AttackSpec
from leakbench.attacks.shokri import shokri
from leakbench.attacks.threshold import confidence, loss
from leakbench.errors import UnknownNameError

ATTACKS: dict[str, AttackSpec] = {
    spec.name: spec
    for spec in (
        AttackSpec(
            name="shokri",
            run=shokri,
            needs_shadows=True,
            description="shadow models, one attack model per class",
            reference="Shokri et al. 2017, section V",
        ),
        AttackSpec(
            name="confidence",
            run=confidence,
            needs_shadows=False,
            description="threshold on the max posterior, calibrated on noise queries",
            reference="Salem et al. 2019, section 7 (adversary 3)",
        ),
        AttackSpec(
            name="loss",
            run=loss,
            needs_shadows=False,
            description="threshold on the loss at the mean training loss",
            reference="Yeom et al. 2018, section 3.2",
        ),
    )
}


def get_attack(name: str) -> AttackSpec:
    """The attack registered under ``name``.

    Raises:
        UnknownNameError: naming the key ``attacks`` and the registered names.
    """
    if name not in ATTACKS:
        raise UnknownNameError("attacks", name, ATTACKS)
    return ATTACKS[name]


__all__ = ["ATTACKS", "AttackInput", "AttackResult", "AttackSpec", "get_attack"]
