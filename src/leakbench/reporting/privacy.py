"""The DP axis' tables and figures: leakage and utility against epsilon, and the audit.

Built from the metrics records of every privacy variant of the DP cells: membership
attack records (AUC, TPR at 1% FPR, target test accuracy), property-poisoning attack
records (attack accuracy at each poisoning rate, clean test accuracy), collaborative
learning's participant-level DP records (property attack AUC, joint model's test accuracy)
and the audit records (accountant epsilon against the empirical lower bound).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakbench.names import CellId, RatioPair, parse_variant_label
from leakbench.reporting.figures import PANEL_INCHES, STYLE
from leakbench.reporting.records import MetricsRecord, RecordError

TRADEOFF_COLUMNS = (
    "study",
    "dataset",
    "cell",
    "epsilon",
    "accountant_epsilon",
    "attack",
    "poison_rate",
    "auc",
    "tpr_at_fpr_0.01",
    "attack_accuracy",
    "test_accuracy",
)
AUDIT_COLUMNS = (
    "dataset",
    "cell",
    "epsilon",
    "accountant_epsilon",
    "noise_multiplier",
    "epsilon_lower",
    "ceiling",
    "optimal",
    "tp",
    "fn",
    "fp",
    "tn",
    "canary_epsilon_lower",
    "canary_ceiling",
    "within_budget",
)


def _cell(record: MetricsRecord) -> str:
    """A membership record's grid row (its variant without the privacy suffix)."""
    return parse_variant_label(record.value("grid", "variant"))[0]


def _property_cell(record: MetricsRecord) -> str:
    """A property record's cell: ``<property>/<t0>-<t1>/<model>``."""
    pair = RatioPair(float(record.value("grid", "t0")), float(record.value("grid", "t1")))
    parts = (record.value("grid", "property"), pair, record.value("grid", "model"))
    return str(CellId.of(("property", "group", "model"), parts))


def _epsilon(privacy: Mapping[str, Any] | None) -> float:
    return math.inf if not privacy else float(privacy["epsilon"])


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def audit_table(*, records: Iterable[MetricsRecord]) -> pd.DataFrame:
    """One row per audited membership variant, with the bound from natural records and,
    when canaries were inserted, from canaries, each beside the Clopper-Pearson ceiling of
    its number of trials (records or canaries) and, for the natural records, the
    optimal-test bound of the target's mechanism (NaN without DP); ``within_budget`` says
    whether both bounds are at most the accountant's epsilon (always true without DP)."""
    rows = []
    for r in records:
        spent = _number(r.value("metrics", "accountant_epsilon"))
        lower = float(r.value("metrics", "epsilon_lower"))
        canary = _number(r.metrics.get("canary_epsilon_lower"))
        rows.append(
            {
                "dataset": r.dataset,
                "cell": _cell(r),
                "epsilon": _epsilon(r.grid.get("privacy")),
                "accountant_epsilon": spent,
                "noise_multiplier": _number(r.value("metrics", "noise_multiplier")),
                "epsilon_lower": lower,
                "ceiling": float(r.value("metrics", "ceiling")),
                "optimal": _number(r.metrics.get("optimal")),
                **{key: int(r.value("metrics", key)) for key in ("tp", "fn", "fp", "tn")},
                "canary_epsilon_lower": canary,
                "canary_ceiling": _number(r.metrics.get("canary_ceiling")),
                "within_budget": bool(
                    math.isnan(spent) or max(lower, np.nan_to_num(canary)) <= spent
                ),
            }
        )
    table = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    order = ["dataset", "cell", "epsilon"]
    return table.sort_values(order, ascending=[True, True, False]).reset_index(drop=True)


def tradeoff_table(
    *,
    membership: Iterable[MetricsRecord],
    audits: Iterable[MetricsRecord],
    property_poisoning: Iterable[MetricsRecord],
    collaborative: Iterable[MetricsRecord],
) -> pd.DataFrame:
    """One row per (study, cell, epsilon, attack, poisoning rate): attack performance and the
    target's test accuracy. The membership rows take the accountant's epsilon from the
    audit of the same variant; the property and collaborative rows from their own records.
    A collaborative row's cell is ``<variant>/<sweep><value>`` (one per sweep value), its
    AUC the batch-property attack's and its test accuracy the joint model's."""
    spent = {
        (r.dataset, _cell(r), _epsilon(r.grid.get("privacy"))): _number(
            r.value("metrics", "accountant_epsilon")
        )
        for r in audits
    }
    rows = []
    for r in membership:
        variant, epsilon = _cell(r), _epsilon(r.grid.get("privacy"))
        rows.append(
            {
                "study": "membership",
                "dataset": r.dataset,
                "cell": variant,
                "epsilon": epsilon,
                "accountant_epsilon": spent.get((r.dataset, variant, epsilon), math.nan),
                "attack": r.attack,
                "poison_rate": math.nan,
                "auc": float(r.value("metrics", "auc")),
                "tpr_at_fpr_0.01": float(r.value("metrics", "tpr_at_fpr_0.01")),
                "attack_accuracy": math.nan,
                "test_accuracy": float(r.value("metrics", "target_test_accuracy")),
            }
        )
    for r in property_poisoning:
        rows.append(
            {
                "study": "property_poisoning",
                "dataset": r.dataset,
                "cell": _property_cell(r),
                "epsilon": _epsilon(r.value("grid", "model_params").get("privacy")),
                "accountant_epsilon": _number(r.metrics.get("accountant_epsilon")),
                "attack": r.attack,
                "poison_rate": float(r.value("grid", "poison_rate")),
                "auc": math.nan,
                "tpr_at_fpr_0.01": math.nan,
                "attack_accuracy": float(r.value("metrics", "attack_accuracy")),
                "test_accuracy": float(r.value("metrics", "clean_test_accuracy")),
            }
        )
    for r in collaborative:
        dp = r.metrics.get("dp")
        variant, sweep = parse_variant_label(r.variant)[0], r.value("grid", "sweep")
        for value, auc in r.value("metrics", "auc").items():
            rows.append(
                {
                    "study": r.study,
                    "dataset": r.dataset,
                    "cell": f"{variant}/{sweep}{float(value):g}",
                    "epsilon": _epsilon(r.grid.get("privacy")),
                    "accountant_epsilon": math.nan if dp is None else float(dp["epsilon"]),
                    "attack": r.attack,
                    "poison_rate": math.nan,
                    "auc": float(auc),
                    "tpr_at_fpr_0.01": math.nan,
                    "attack_accuracy": math.nan,
                    "test_accuracy": float(r.value("metrics", "accuracy")[value]),
                }
            )
    if not rows:
        raise RecordError("dp_tradeoff: no records; expected at least one")
    table = pd.DataFrame(rows, columns=list(TRADEOFF_COLUMNS))
    order = ["study", "dataset", "cell", "attack", "poison_rate", "epsilon"]
    return table.sort_values(order, ascending=[True] * 5 + [False], kind="stable").reset_index(
        drop=True
    )


def _positions(epsilons: np.ndarray, finite: list[float]) -> np.ndarray:
    """x positions on a log axis: each finite epsilon at itself, inf one decade beyond the
    largest finite one (labelled "no DP")."""
    right = 10 * max(finite) if finite else 10.0
    return np.where(np.isinf(epsilons), right, epsilons)


def _ticks(finite: list[float], *, ratio: float = 1.25) -> list[float]:
    """The finite epsilons to label: from the smallest up, each at least ``ratio`` times
    the last one kept, so that close values (0.94 and 1.0) do not print over each other."""
    kept: list[float] = []
    for value in sorted(set(finite)):
        if not kept or value >= ratio * kept[-1]:
            kept.append(value)
    return kept


def _epsilon_axis(ax: Any, finite: list[float]) -> None:
    ticks = _ticks(finite)
    right = 10 * max(finite) if finite else 10.0
    ax.set_xscale("log")
    ax.set_xticks([*ticks, right], [*(f"{t:.3g}" for t in ticks), "no DP"])
    ax.minorticks_off()
    ax.set_xlabel("target epsilon (delta fixed)")


def tradeoff_figure(*, table: pd.DataFrame) -> Figure:
    """One panel per (study, dataset, cell): attack performance and test accuracy against
    epsilon. Membership: AUC and TPR at 1% FPR of each attack; poisoning: attack accuracy at
    each poisoning rate; collaborative learning: the property attack's AUC. Test accuracy
    is black; chance is dashed."""
    if table.empty:
        raise RecordError("dp_tradeoff: no rows to plot")
    panels = list(table[["study", "dataset", "cell"]].drop_duplicates().itertuples(index=False))
    finite = sorted({float(e) for e in table.epsilon if math.isfinite(e)})
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        figure = Figure(figsize=(PANEL_INCHES * len(panels), PANEL_INCHES * 1.15))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        axes = figure.subplots(1, len(panels), squeeze=False)[0]
        for ax, (study, dataset, cell) in zip(axes, panels, strict=True):
            rows = table[(table.study == study) & (table.dataset == dataset) & (table.cell == cell)]
            lines: list[tuple[str, pd.DataFrame, str, str]] = []
            if study == "membership":
                for attack, part in rows.groupby("attack", sort=True):
                    lines.append((f"{attack} AUC", part, "auc", "o-"))
                    lines.append((f"{attack} TPR@1%FPR", part, "tpr_at_fpr_0.01", "s:"))
            elif study == "property_poisoning":
                for rate, part in rows.groupby("poison_rate", sort=True):
                    lines.append((f"p={rate:g}", part, "attack_accuracy", "o-"))
            else:
                for attack, part in rows.groupby("attack", sort=True):
                    lines.append((f"{attack} AUC", part, "auc", "o-"))
            for i, (name, part, column, style) in enumerate(lines):
                part = part.sort_values("epsilon")
                x = _positions(part.epsilon.to_numpy(dtype=float), finite)
                ax.plot(x, part[column], style, ms=3, color=colors[i % len(colors)], label=name)
            first = rows.drop_duplicates("epsilon").sort_values("epsilon")
            x = _positions(first.epsilon.to_numpy(dtype=float), finite)
            ax.plot(x, first.test_accuracy, "k^-", ms=3, label="test accuracy")
            ax.axhline(0.5, linestyle="--", color="0.5", linewidth=0.8)
            _epsilon_axis(ax, finite)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"{study}: {dataset} {cell}", fontsize=7)
            ax.grid(True, linewidth=0.3)
            ax.legend(loc="best", fontsize=5)
        axes[0].set_ylabel("attack metric / test accuracy")
    return figure


def audit_figure(*, table: pd.DataFrame) -> Figure:
    """The empirical lower bound on epsilon against the accountant's epsilon, one marker
    series per audited cell, with the Clopper-Pearson ceiling of its trial count (pale
    triangles: down for records, up for canaries); the diagonal is where the bound would meet
    the accountant (a point above it would be a bug). Variants without DP sit at "no DP" on
    the right."""
    if table.empty:
        raise RecordError("dp_audit: no rows to plot")
    spent = table.accountant_epsilon.to_numpy(dtype=float)
    finite = sorted({float(e) for e in spent if math.isfinite(e)})
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        figure = Figure(figsize=(PANEL_INCHES * 1.3, PANEL_INCHES * 1.15))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        ax = figure.subplots()
        if finite:
            grid = np.geomspace(min(finite) / 2, max(finite) * 1.5, 50)
            ax.plot(grid, grid, "--", color="0.5", linewidth=0.8, label="lower bound = epsilon")
        for i, ((dataset, cell), part) in enumerate(table.groupby(["dataset", "cell"], sort=True)):
            spent_at = np.nan_to_num(part.accountant_epsilon.to_numpy(dtype=float), nan=math.inf)
            x, color = _positions(spent_at, finite), colors[i % len(colors)]
            ax.plot(x, part.epsilon_lower, "o", ms=4, color=color, label=f"{dataset} {cell}")
            ax.plot(x, part.ceiling, "v", ms=3, color=color, alpha=0.5)
            if part.canary_epsilon_lower.notna().any():
                name = f"{dataset} {cell} (canaries)"
                ax.plot(x, part.canary_epsilon_lower, "x", ms=5, color=color, label=name)
                ax.plot(x, part.canary_ceiling, "^", ms=3, color=color, alpha=0.5)
        _epsilon_axis(ax, finite)
        ax.set_xlabel("accountant epsilon")
        ax.set_ylabel("empirical lower bound (95%)")
        ax.set_title("DP audit: membership attack vs accountant", fontsize=7)
        ax.grid(True, linewidth=0.3)
        ax.legend(loc="upper left", fontsize=5)
    return figure


WHITEBOX_COLUMNS = (
    "dataset",
    "epsilon",
    "accountant_epsilon",
    "noise_multiplier",
    "sample_rate",
    "steps",
    "trials",
    "audit",
    "epsilon_lower",
    "ceiling",
    "optimal",
    "within_budget",
)
WHITEBOX_AUDITS = ("every_iterate", "final_model")  # the white-box auditors' metric names


def whitebox_table(*, records: Iterable[MetricsRecord]) -> pd.DataFrame:
    """Two rows per white-box audit record (Nasr et al. 2021, section 3), one per auditor
    (every iterate, final model): its 95% lower bound beside the accountant's epsilon, the
    Clopper-Pearson ceiling of the trial count and the optimal-test bound of the auditor's
    view (the same test, threshold and trial counts on the exact mechanism);
    ``within_budget`` says whether the bound is at most the accountant's."""
    rows = []
    for r in records:
        spent = float(r.value("metrics", "epsilon"))
        for audit in WHITEBOX_AUDITS:
            lower = float(r.value("metrics", audit))
            rows.append(
                {
                    "dataset": r.dataset,
                    "epsilon": float(r.value("metrics", "target_epsilon")),
                    "accountant_epsilon": spent,
                    **{
                        key: r.value("metrics", key)
                        for key in ("noise_multiplier", "sample_rate", "steps", "trials")
                    },
                    "audit": audit,
                    "epsilon_lower": lower,
                    "ceiling": float(r.value("metrics", "ceiling")),
                    "optimal": float(r.value("metrics", f"{audit}_optimal")),
                    "within_budget": lower <= spent,
                }
            )
    table = pd.DataFrame(rows, columns=list(WHITEBOX_COLUMNS))
    order = ["dataset", "epsilon", "audit"]
    return table.sort_values(order, ascending=[True, False, True]).reset_index(drop=True)


def whitebox_figure(*, table: pd.DataFrame) -> Figure:
    """Per epsilon, the white-box audits' lower bounds beside the accountant's epsilon, the
    ceiling of the trial count and the optimal-test bound, so a reader sees whether the
    audit, the trial count or the mechanism is the limit."""
    if table.empty:
        raise RecordError("dp_whitebox: no rows to plot")
    finite = sorted({float(e) for e in table.epsilon})
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        figure = Figure(figsize=(PANEL_INCHES * 1.3, PANEL_INCHES * 1.15))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        ax = figure.subplots()
        first = table.drop_duplicates(["dataset", "epsilon"]).sort_values("epsilon")
        x = first.epsilon.to_numpy(dtype=float)
        ax.plot(x, first.accountant_epsilon, "k_--", ms=9, lw=0.8, label="accountant epsilon")
        ax.plot(x, first.ceiling, "v:", ms=3, color="0.4", label="ceiling (trials)")
        for i, (audit, part) in enumerate(table.groupby("audit", sort=True)):
            part = part.sort_values("epsilon")
            color, name = colors[i % len(colors)], audit.replace("_", " ")
            ax.plot(part.epsilon, part.optimal, "s-", ms=3, lw=0.8, color=color)
            ax.plot(
                part.epsilon,
                part.epsilon_lower,
                "o" if audit == "every_iterate" else "x",
                ms=4,
                color=color,
                label=f"{name} (line: its optimal test)",
            )
        ax.set_xscale("log")
        ticks = _ticks(finite)
        ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("target epsilon (delta fixed)")
        ax.set_ylabel("epsilon (95% lower bounds)")
        ax.set_title("White-box Dirac-canary audit of DP-SGD", fontsize=7)
        ax.grid(True, linewidth=0.3)
        ax.legend(loc="upper left", fontsize=5)
    return figure


AUDITS_COLUMNS = (
    "dataset",
    "cell",
    "audit",
    "epsilon",
    "accountant_epsilon",
    "epsilon_lower",
    "ceiling",
    "optimal",
    "within_budget",
)
# Every audit of the DP study, in the order of the table and figure: the natural-record
# membership audit, the one-run input-space canary audit of the membership target and the
# white-box one-run audit of the audit cell (Steinke et al. 2023), the white-box Dirac
# canary seen at every iterate and in the final model (Nasr et al. 2021) and the black-box
# multi-run canary audit (Jagielski et al. 2020).
AUDITS = (
    "natural_records",
    "one_run_canaries",
    "whitebox_one_run",
    "whitebox_every_iterate",
    "whitebox_final_model",
    "blackbox_multi_run",
)


def audits_table(
    *,
    audits: pd.DataFrame,
    whitebox: pd.DataFrame,
    blackbox: Iterable[MetricsRecord],
    one_run: Iterable[MetricsRecord],
) -> pd.DataFrame:
    """One row per audit (:data:`AUDITS`) and finite epsilon: the 95% lower bound, the
    accountant's epsilon, the ceiling of the audit's trial count (Clopper-Pearson; for
    the one-run audits, Steinke et al.'s bound with every guess right) and the
    optimal-test bound (the best test on the exact subsampled Gaussian with the audit's q,
    T, sigma and trials; for the white-box one-run audit, the same one-run procedure on
    that mechanism). It is NaN for the input-space one-run audit of the membership target,
    whose canaries are records of a trained network. ``audits`` is :func:`audit_table`'s
    table, ``whitebox`` :func:`whitebox_table`'s, ``blackbox`` the black-box and
    ``one_run`` the white-box one-run audit records."""
    rows = []
    for row in audits.itertuples(index=False):
        if not math.isfinite(row.accountant_epsilon):
            continue  # no DP: no accountant to compare with
        pairs = [("natural_records", row.epsilon_lower, row.ceiling, row.optimal)]
        if not math.isnan(row.canary_epsilon_lower):
            pairs.append(
                ("one_run_canaries", row.canary_epsilon_lower, row.canary_ceiling, math.nan)
            )
        for audit, lower, ceiling, optimal in pairs:
            rows.append(
                {
                    "dataset": row.dataset,
                    "cell": row.cell,
                    "audit": audit,
                    "epsilon": row.epsilon,
                    "accountant_epsilon": row.accountant_epsilon,
                    "epsilon_lower": lower,
                    "ceiling": ceiling,
                    "optimal": optimal,
                }
            )
    for row in whitebox.itertuples(index=False):
        rows.append(
            {
                "dataset": row.dataset,
                "cell": "whitebox",
                "audit": f"whitebox_{row.audit}",
                **{
                    key: getattr(row, key)
                    for key in ("epsilon", "accountant_epsilon", "epsilon_lower", "ceiling")
                },
                "optimal": row.optimal,
            }
        )
    cells = [(r, "blackbox", "blackbox_multi_run") for r in blackbox]
    cells += [(r, "whitebox", "whitebox_one_run") for r in one_run]
    for r, cell, audit in cells:
        rows.append(
            {
                "dataset": r.dataset,
                "cell": cell,
                "audit": audit,
                "epsilon": float(r.value("metrics", "target_epsilon")),
                "accountant_epsilon": float(r.value("metrics", "epsilon")),
                **{
                    key: float(r.value("metrics", key))
                    for key in ("epsilon_lower", "ceiling", "optimal")
                },
            }
        )
    table = pd.DataFrame(rows, columns=list(AUDITS_COLUMNS))
    table["within_budget"] = table.epsilon_lower <= table.accountant_epsilon
    table["rank"] = table.audit.map(AUDITS.index)
    order = ["rank", "dataset", "cell", "epsilon"]
    table = table.sort_values(order, ascending=[True, True, True, False])
    return table.drop(columns="rank").reset_index(drop=True)


def audits_figure(*, table: pd.DataFrame) -> Figure:
    """One panel per audit of :func:`audits_table`: per epsilon, the 95% lower bound
    (dots), the accountant's epsilon (black dashes), the ceiling of the trial count
    (triangles) and, where defined, the optimal-test bound (squares), so a reader sees
    whether the audit, the trial count or the mechanism is the limit."""
    if table.empty:
        raise RecordError("dp_audits: no rows to plot")
    finite = sorted({float(e) for e in table.epsilon})
    present = [audit for audit in AUDITS if (table.audit == audit).any()]
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        figure = Figure(figsize=(PANEL_INCHES * len(present), PANEL_INCHES * 1.15))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        axes = np.atleast_1d(figure.subplots(1, len(present), sharey=True))
        for ax, audit in zip(axes, present, strict=True):
            part = table[table.audit == audit]
            for i, ((dataset, cell), group) in enumerate(part.groupby(["dataset", "cell"])):
                group = group.sort_values("epsilon")
                color, x = colors[i % len(colors)], group.epsilon.to_numpy(dtype=float)
                ax.plot(x, group.accountant_epsilon, "k_--", ms=9, lw=0.8)
                ax.plot(x, group.ceiling, "v:", ms=3, color=color, alpha=0.6)
                if group.optimal.notna().any():
                    ax.plot(x, group.optimal, "s-", ms=3, lw=0.8, color=color, alpha=0.7)
                ax.plot(x, group.epsilon_lower, "o", ms=4, color=color, label=f"{dataset} {cell}")
            ax.set_xscale("log")
            ticks = _ticks(finite)
            ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
            ax.minorticks_off()
            ax.set_xlabel("target epsilon")
            ax.set_title(audit.replace("_", " "), fontsize=7)
            ax.grid(True, linewidth=0.3)
            ax.legend(loc="upper left", fontsize=5)
        axes[0].set_ylabel("epsilon: bound (o), accountant (-), ceiling (v), optimal (s)")
    return figure
