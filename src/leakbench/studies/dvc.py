"""``dvc.yaml``, written from the study specs (``leakbench dvc-yaml``).

The file is committed, so DVC works on a fresh clone without running leakbench; its bytes
are a function of the specs alone (:func:`render`), and ``leakbench dvc-yaml --check``
fails when the committed file differs from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import yaml

from leakbench.studies.spec import OutputKind, StudySpec

HEADER = """\
# The DVC view of the Snakemake DAG. `dvc repro` runs the whole workflow; DVC versions its
# deterministic outputs (metrics and plots too: results/ is not in git, so old versions live
# in the DVC cache and remote). `persist: true` keeps them in place between runs so Snakemake
# stays incremental. Logs, benchmarks, tracking receipts and the MLflow store are not outputs:
# they differ from run to run.
# Written by `leakbench dvc-yaml` from the study specs (src/leakbench/studies/specs/); do not
# edit by hand.
"""
COMMAND = "snakemake --cores all"
DEPS = ("Snakefile", "workflow", "src/leakbench", "config/config.yaml", "envs")
SHARED_OUTS = ("results/data",)  # written by the data stage, for every study


def _scalar(value: str) -> str:
    """``value`` as a YAML scalar (plain where YAML allows it, quoted otherwise)."""
    return yaml.safe_dump(value, default_flow_style=True, width=1000).removesuffix("\n...\n")


def _entries(paths: Iterable[str], **options: bool) -> list[str]:
    lines = []
    for path in paths:
        lines.append(f"      - {_scalar(path)}:")
        lines += [f"          {key}: {str(value).lower()}" for key, value in options.items()]
    return lines


def render(*, studies: Mapping[str, StudySpec]) -> str:
    """The text of ``dvc.yaml`` for ``studies`` (in their order): one stage that runs the
    workflow, whose outputs are the shared data, each study's artifact folders, tables,
    figures, plot folders and metrics files (DVC metrics), and each study's DVC plots.

    Every output is persisted (Snakemake stays incremental) and cached: ``results/`` is not
    in git, so the DVC cache (and remote) is the only place older versions of the metrics
    and plots live, which ``dvc metrics diff`` and ``dvc plots diff`` between commits read."""
    specs = list(studies.values())
    files = [
        o.path for s in specs for o in s.outputs if o.kind in (OutputKind.TABLE, OutputKind.FIGURE)
    ]
    lines = [
        "stages:",
        "  snakemake:",
        f"    cmd: {_scalar(COMMAND)}",
        "    deps:",
        *(f"      - {_scalar(dep)}" for dep in DEPS),
        "    outs:",
        *_entries([*SHARED_OUTS, *(a for s in specs for a in s.artifacts), *files], persist=True),
        *_entries((p.path for s in specs for p in s.plots), persist=True),
        "    metrics:",
        *_entries((o.path for s in specs for o in s.of_kind(OutputKind.METRICS)), persist=True),
    ]
    plots = [p for s in specs for p in s.plots]
    if plots:
        lines += ["", "plots:"]
        for plot in plots:
            lines.append(f"  - {_scalar(plot.path)}:")
            for key in ("x", "y", "x_label", "y_label", "title"):
                lines.append(f"      {key}: {_scalar(getattr(plot, key))}")
    return HEADER + "\n".join(lines) + "\n"
