"""Names of cells, ratio pairs and privacy variants, formatted and parsed in one place.

Paths, metrics records and MLflow runs name what a job computed with the strings built
here; every other module formats and parses them through these types, never by hand:

* a privacy variant is ``nodp`` (epsilon = inf, no DP) or ``eps<epsilon>`` (``eps8``,
  ``eps0.95``): :func:`privacy_name` and :func:`privacy_epsilon`;
* a record's variant label is the grid variant itself without DP and
  ``<variant>.eps<epsilon>`` with it: :func:`variant_label` and :func:`parse_variant_label`;
* a ratio pair of the property-poisoning study is ``<t0>-<t1>`` (``0.1-0.25``):
  :class:`RatioPair`;
* a cell, one group of models a study trains together, is its path parts joined by ``/``
  (``purchase_synth/mlp128``, ``sex/0.1-0.25/logreg``): :class:`CellId`;
* a membership shadow-data variant is ``real``, ``noisy<rate>`` (``noisy0.1``), ``marginal``
  or ``synthetic`` (:class:`ShadowData`); a record of a non-real variant is labelled
  ``<variant>+<shadow data>`` (``mlp128+noisy0.1``): :func:`shadow_label` and
  :func:`parse_shadow_label`.

This is a leaf module: it imports nothing from leakbench but the errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from leakbench.errors import ConfigError

NO_DP = "nodp"
REGRESSION = "regression"  # the property-poisoning study's ratio-regression group
# The variant names of the DP axis's audit cells that train no membership row.
WHITEBOX_AUDIT = "whitebox"
BLACKBOX_AUDIT = "blackbox"
ONE_RUN_AUDIT = "one_run"

_EPSILON = r"eps(?P<epsilon>[0-9][0-9.e+-]*)"
_PRIVACY = re.compile(rf"{NO_DP}|{_EPSILON}")
_LABEL = re.compile(rf"(?P<variant>.+)\.{_EPSILON}")
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_SHADOW_DATA = re.compile(r"real|noisy(?P<rate>[0-9.]+)|marginal|synthetic")
SHADOW_DATA_ALLOWED = "real, noisy<rate> with 0 < rate < 1 (noisy0.1), marginal, synthetic"
REAL = "real"
SHADOW_DATA_PATTERN = r"noisy[0-9.]+|marginal|synthetic"
"""The non-real shadow-data names (the ``shadow_data`` wildcard of the membership rules)."""


def privacy_name(epsilon: float) -> str:
    """The path part of a privacy variant: ``nodp`` for epsilon = inf, else
    ``eps<epsilon>`` with epsilon in ``%g`` form (``eps8``, ``eps0.95``)."""
    return NO_DP if math.isinf(epsilon) else f"eps{epsilon:g}"


def privacy_epsilon(name: str) -> float:
    """The epsilon a :func:`privacy_name` was made from (inf for ``nodp``).

    Raises:
        ConfigError: if ``name`` is not a privacy variant name.
    """
    match = _PRIVACY.fullmatch(name)
    if match is None:
        raise ConfigError(f"privacy: variant {name!r} is not allowed; allowed: nodp, eps<epsilon>")
    return math.inf if name == NO_DP else float(match["epsilon"])


def variant_label(variant: str, epsilon: float = math.inf) -> str:
    """A record's variant name: ``variant`` itself without DP, ``<variant>.eps<epsilon>``
    with it (so every privacy variant of a cell is its own record and MLflow run)."""
    return variant if math.isinf(epsilon) else f"{variant}.{privacy_name(epsilon)}"


def parse_variant_label(label: str) -> tuple[str, float]:
    """``(variant, epsilon)`` of a :func:`variant_label` (epsilon inf without DP)."""
    match = _LABEL.fullmatch(label)
    if match is None:
        return label, math.inf
    return match["variant"], float(match["epsilon"])


@dataclass(frozen=True, order=True)
class RatioPair:
    """The two property ratios (t0, t1) of a distinguishing game (Mahloujifar et al. 2022,
    section III): the target's training set holds a fraction t0 or t1 of property records."""

    t0: float
    t1: float

    def __str__(self) -> str:
        return f"{self.t0:g}-{self.t1:g}"

    @classmethod
    def parse(cls, text: str) -> RatioPair:
        """The pair a ``str(pair)`` names, e.g. ``"0.1-0.25"``.

        Raises:
            ConfigError: if ``text`` is not two numbers joined by ``-``.
        """
        parts = text.split("-")
        try:
            t0, t1 = (float(p) for p in parts)
        except ValueError:
            raise ConfigError(
                f"ratio pair: {text!r} is not allowed; allowed: <t0>-<t1>, e.g. 0.1-0.25"
            ) from None
        return cls(t0, t1)


@dataclass(frozen=True)
class CellId:
    """One group of models a study trains together, named by its path wildcards.

    Attributes:
        keys: the wildcard names, in path order (``("dataset", "variant")``).
        values: their values, one per key; each a non-empty name of letters, digits and
            ``_ . + -`` that does not start with ``.``, ``+`` or ``-`` (no ``/``).

    Raises:
        ConfigError: if the keys and values differ in number or a value is not allowed.
    """

    keys: tuple[str, ...]
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.values):
            raise ConfigError(
                f"cell: {'/'.join(self.values)!r} is not allowed; "
                f"allowed: {len(self.keys)} parts, {'/'.join(self.keys)}"
            )
        for key, value in zip(self.keys, self.values, strict=True):
            if not isinstance(value, str) or not _PART.fullmatch(value):
                raise ConfigError(
                    f"cell.{key}: {value!r} is not allowed; allowed: letters, digits and "
                    "'_.+-', not starting with '.', '+' or '-'"
                )

    def __str__(self) -> str:
        return "/".join(self.values)

    @classmethod
    def of(cls, keys: Sequence[str], values: Sequence[object]) -> CellId:
        """A cell from its wildcard values (numbers and ratio pairs formatted with ``str``)."""
        return cls(tuple(keys), tuple(str(v) for v in values))

    @classmethod
    def parse(cls, keys: Sequence[str], text: str) -> CellId:
        """The cell a ``str(cell)`` names, e.g. ``CellId.parse(("dataset", "variant"),
        "adult/logreg")``."""
        return cls(tuple(keys), tuple(text.split("/")))

    @property
    def wildcards(self) -> Mapping[str, str]:
        """``{key: value}``, as Snakemake's wildcards of the cell's jobs."""
        return dict(zip(self.keys, self.values, strict=True))


@dataclass(frozen=True)
class ShadowData:
    """What a membership grid row's shadow models train on (Shokri et al. 2017, section V-C).

    Attributes:
        kind: ``real`` (disjoint real records), ``noisy`` (real records with noise),
            ``marginal`` (drawn from per-feature marginals) or ``synthetic`` (hill climbing
            against the target, Algorithm 1).
        rate: the noise rate of ``noisy`` (0 < rate < 1); None for the other kinds.
    """

    kind: str
    rate: float | None = None

    def __str__(self) -> str:
        return f"noisy{self.rate:g}" if self.kind == "noisy" else self.kind

    @classmethod
    def parse(cls, text: str, *, key: str = "shadow_data") -> ShadowData:
        """The variant a config or path names (``real``, ``noisy0.2``, ``marginal``,
        ``synthetic``).

        Raises:
            ConfigError: naming ``key``, the value and the allowed names, for an unknown
                name or a noise rate outside (0, 1).
        """
        match = _SHADOW_DATA.fullmatch(text) if isinstance(text, str) else None
        rate = None
        if match is not None and match["rate"] is not None:
            try:
                rate = float(match["rate"])
            except ValueError:
                match = None
            else:
                if not 0 < rate < 1 or f"noisy{rate:g}" != text:
                    match = None
        if match is None:
            raise ConfigError(f"{key}: {text!r} is not allowed; allowed: {SHADOW_DATA_ALLOWED}")
        return cls(text if rate is None else "noisy", rate)


def shadow_label(variant: str, shadow_data: str) -> str:
    """A membership record's variant label: the grid variant for ``real`` shadow data,
    ``<variant>+<shadow data>`` otherwise (grid variants hold no ``+``)."""
    return variant if shadow_data == REAL else f"{variant}+{shadow_data}"


def parse_shadow_label(label: str) -> tuple[str, str]:
    """``(variant, shadow data)`` of a :func:`shadow_label`."""
    variant, plus, shadow_data = label.partition("+")
    return (variant, shadow_data) if plus else (label, REAL)
