"""What a step function is given: the job (its identity and settings) and its files.

A workflow script builds both from ``snakemake.*`` in one call, :func:`from_snakemake`, and
passes them to one step function. The library never imports Snakemake: the ``snakemake``
object is read through its public attributes only (``rule``, ``wildcards``, ``params``,
``input``, ``output``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from leakbench.errors import ConfigError
from leakbench.names import CellId


@dataclass(frozen=True)
class Job:
    """One job's identity and settings.

    Attributes:
        rule: The rule the job belongs to (``attack_membership``, ``log_privacy``).
        cell: The job's wildcards, in the order the rule names them (an empty cell for
            a job without wildcards, such as an aggregation).
        seed: The config seed every seed of the job is derived from (None for a job that
            draws nothing).
        row: The job's grid row (a membership row, a property model row) with its privacy
            variant's DP settings under ``privacy``; empty for a job without one.
        settings: Every other configured parameter of the rule, by name.
    """

    rule: str
    cell: CellId = field(default_factory=partial(CellId, (), ()))
    seed: int | None = None
    row: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def wildcard(self, key: str) -> str:
        """The value of wildcard ``key``.

        Raises:
            ConfigError: if the job has no such wildcard (names the ones it has).
        """
        return _pick(f"{self.rule}: wildcard", self.cell.wildcards, key)

    def setting(self, key: str) -> Any:
        """The value of setting ``key``.

        Raises:
            ConfigError: if the rule has no such parameter (names the ones it has).
        """
        return _pick(f"{self.rule}: setting", self.settings, key)

    @property
    def config_seed(self) -> int:
        """:attr:`seed`, which a job that draws anything must have.

        Raises:
            ConfigError: if the rule passes no seed.
        """
        if self.seed is None:
            raise ConfigError(f"{self.rule}: seed: None is not allowed; allowed: an integer")
        return self.seed


@dataclass(frozen=True)
class Files:
    """One job's input and output files.

    Attributes:
        inputs: The named inputs, each as a tuple of paths (one path for a single file).
        outputs: The named outputs, likewise.
        output_list: Every output, in the rule's order (named or not).
    """

    inputs: Mapping[str, tuple[Path, ...]] = field(default_factory=dict)
    outputs: Mapping[str, tuple[Path, ...]] = field(default_factory=dict)
    output_list: tuple[Path, ...] = ()

    def input(self, key: str) -> Path:
        """The one file of input ``key``.

        Raises:
            ConfigError: if there is no such input, or it is not exactly one file.
        """
        return _one("input", _pick("input", self.inputs, key), key)

    def input_list(self, key: str) -> list[Path]:
        """The files of input ``key``; none if the rule has no such input (an optional
        input, such as a study's per-cell files or the DP audit's canaries)."""
        return list(self.inputs.get(key, ()))

    def output(self, key: str | None = None) -> Path:
        """The one file of output ``key``, or with None the job's only output.

        Raises:
            ConfigError: if there is no such output, or it is not exactly one file.
        """
        paths = self.output_list if key is None else _pick("output", self.outputs, key)
        return _one("output", paths, key or "output")

    def stem(self, key: str) -> Path:
        """Output ``key`` without its suffix (a figure's path for ``save_figure``)."""
        path = self.output(key)
        return path.with_name(path.stem)


def _pick(what: str, mapping: Mapping[str, Any], key: str) -> Any:
    if key not in mapping:
        raise ConfigError(
            f"{what}: {key!r} is not allowed; allowed: {', '.join(sorted(mapping)) or 'none'}"
        )
    return mapping[key]


def _one(what: str, paths: tuple[Path, ...], key: str) -> Path:
    if len(paths) != 1:
        raise ConfigError(f"{what}.{key}: {len(paths)} files is not allowed; allowed: exactly one")
    return paths[0]


class _Named(Protocol):
    """Snakemake's ``Namedlist``: a list whose items may also have names."""

    def items(self) -> Any: ...
    def __iter__(self) -> Any: ...


class _Snakemake(Protocol):
    """The attributes of the ``snakemake`` object a workflow script sees."""

    rule: str
    wildcards: _Named
    params: _Named
    input: _Named
    output: _Named


def _paths(value: Any) -> tuple[Path, ...]:
    """A named input or output (one path, or a list of them) as a tuple of paths."""
    return (Path(value),) if isinstance(value, str) else tuple(Path(v) for v in value)


def from_snakemake(smk: _Snakemake) -> tuple[Job, Files]:
    """The job and files of the running Snakemake job, in one call.

    The params ``seed`` and ``row`` become :attr:`Job.seed` and :attr:`Job.row`; every
    other param is a setting.
    """
    params = dict(smk.params.items())
    wildcards = dict(smk.wildcards.items())
    job = Job(
        rule=smk.rule,
        cell=CellId.of(tuple(wildcards), tuple(wildcards.values())),
        seed=params.pop("seed", None),
        row=params.pop("row", None) or {},
        settings=params,
    )
    files = Files(
        inputs={key: _paths(value) for key, value in smk.input.items()},
        outputs={key: _paths(value) for key, value in smk.output.items()},
        output_list=_paths(list(smk.output)),
    )
    return job, files
