"""Benchmark: what limits the ratio regression of Mahloujifar et al. 2022 (section I).

For one property of Adult at one poisoning rate (default: sex, p = 5%) it trains, per
model row of the default config, a bank of models with the study's own functions (sides,
plan, poison, stacked training, label-only scores): ``--bank`` shadows at every ratio of
a 0.05 grid and ``--targets`` targets at each of the default config's target ratios. Every
setting is then a subset of that bank, so one factor moves at a time:

- shadows per ratio (2 .. bank), on the 0.1 grid and on the 0.05 grid;
- queries (100 .. 5000) and their selection (``random`` or ``uncertain``);
- the regressor from score to ratio: isotonic (leakbench's), least-squares line, k nearest
  neighbours, the inverse of the per-ratio mean score (calibration), and a score that
  weighs each query's answer (ridge on the answers, then isotonic);
- the model row (logreg, mlp) and its training settings (``--overrides``);
- with ``--scales``, the training-set size n and the poisoning rate p.

A setting's MAE is averaged over ``--repeats`` disjoint draws of its shadows on the same
targets; ``spread`` is its standard deviation over the draws (the shadows' share of the
noise) and ``se`` the standard error over the targets (their share: another bank's
targets give another MAE within about two of it). ``t<.5`` and ``t>.5`` split the MAE by
the targets' ratio. A setting's time is the bank's measured training time per model
times the models it uses, plus the measured scoring and fitting time. Before the sweep
it prints, per shadow ratio, the mean and standard deviation of the score and
``std / |slope|``: the ratio error one model's score noise alone causes there, a floor
no regressor goes under.

Run: python benchmarks/property_regression.py --pool results/data/adult/pool.npz
     [--models logreg,mlp] [--overrides '{epochs: 80}'] [--scales 4000:0.05,1000:0.2]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.neighbors import KNeighborsRegressor

from leakbench.attacks.property import fit_ratio_regressor, label_fraction, mean_absolute_error
from leakbench.config import load_schema, read_yaml, validate_schema
from leakbench.data.pool import Pool
from leakbench.poisoning import make_poison, poison_count
from leakbench.seeding import configure_torch, derive_seed
from leakbench.studies import property_poisoning as study_lib
from leakbench.studies.property_splits import PropertySides, make_sides
from leakbench.training import StackedModels, predict_logits

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
FINE_GRID = np.round(np.linspace(0.0, 1.0, 21), 2)
COARSE_GRID = FINE_GRID[::2]

Regressor = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""(shadow features, shadow ratios, target features) -> estimated target ratios."""


def _isotonic(s: np.ndarray, t: np.ndarray, query: np.ndarray) -> np.ndarray:
    return fit_ratio_regressor(scores=s, ratios=t).predict(query)


def _linear(s: np.ndarray, t: np.ndarray, query: np.ndarray) -> np.ndarray:
    return LinearRegression().fit(s[:, None], t).predict(query[:, None])


def _knn(s: np.ndarray, t: np.ndarray, query: np.ndarray) -> np.ndarray:
    k = min(5, s.size)
    return KNeighborsRegressor(n_neighbors=k).fit(s[:, None], t).predict(query[:, None])


def _calibration(s: np.ndarray, t: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Invert the per-ratio mean score, a monotone curve made so by isotonic fitting of
    score on ratio (the classical calibration estimator)."""
    ratios = np.unique(t)
    means = np.array([s[t == r].mean() for r in ratios])
    curve = fit_ratio_regressor(scores=ratios, ratios=means).predict(ratios)
    order = np.argsort(curve, kind="stable")
    return np.interp(query, curve[order], ratios[order])


def _weighted(s: np.ndarray, t: np.ndarray, query: np.ndarray) -> np.ndarray:
    """A score that weighs each query: ridge regression of ratio on the shadows' label-only
    answers [S, q] (penalty by leave-one-out), its output mapped to a ratio by the
    isotonic regressor. Not the paper's score (an equal-weight count): a probe of how much
    the per-query answers hold beyond their fraction."""
    ridge = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(s, t)
    return _isotonic(ridge.predict(s), t, ridge.predict(query))


REGRESSORS: dict[str, Regressor] = {
    "isotonic": _isotonic,
    "linear": _linear,
    "knn5": _knn,
    "calibration": _calibration,
    "weighted": _weighted,
}
PER_QUERY = frozenset({"weighted"})  # regressors that take the answers [K, q], not a score


@dataclass(frozen=True)
class Bank:
    """One trained bank: its plan, its models and the seconds its training took."""

    plan: study_lib.ModelPlan
    models: StackedModels
    seconds: float

    @property
    def per_model(self) -> float:
        return self.seconds / self.plan.ratio.size


def _train_bank(
    *,
    pool: Pool,
    prop: np.ndarray,
    sides: PropertySides,
    study: dict,
    row: dict,
    rate: float,
    target_ratios: list[float],
    targets: int,
    shadow_ratios: np.ndarray,
    shadows: int,
    seed: int,
) -> Bank:
    plan = study_lib.ratio_plan(
        target_ratios=target_ratios,
        targets=targets,
        shadow_ratios=shadow_ratios.tolist(),
        shadows=shadows,
    )
    poison = make_poison(
        candidates=sides.poison,
        count=poison_count(rate=rate, clean=study["train_size"]),
        label=study["target_label"],
        num_classes=pool.num_classes,
    )
    count = plan.ratio.size
    tag = (row["variant"], row["epochs"], row["batch_size"], row["lr"], row["weight_decay"], rate)
    start = time.perf_counter()
    models = study_lib.train_group(
        pool=pool,
        prop=prop,
        sides=sides,
        plan=plan,
        train_size=study["train_size"],
        poison=poison,
        model=row,
        data_seeds=[derive_seed(seed, "bench", *tag, "data", k) for k in range(count)],
        init_seeds=[derive_seed(seed, "bench", *tag, "init", k) for k in range(count)],
    )
    return Bank(plan=plan, models=models, seconds=time.perf_counter() - start)


def _shadow_draw(plan: study_lib.ModelPlan, grid: np.ndarray, per_ratio: int, rep: int):
    """Indices of draw ``rep``: the rep-th block of ``per_ratio`` shadows at each grid ratio."""
    picked = []
    for r in grid:
        at = np.flatnonzero(~plan.is_target & np.isclose(plan.ratio, r))
        picked.append(at[rep * per_ratio : (rep + 1) * per_ratio])
    return np.concatenate(picked)


def _actual(plan: study_lib.ModelPlan, size: int) -> np.ndarray:
    return np.floor(plan.ratio * size + 0.5) / size


def _setting(
    *,
    label: str,
    bank: Bank,
    answers: np.ndarray,
    grid: np.ndarray,
    per_ratio: int,
    regressor: str,
    size: int,
    repeats: int,
    score_seconds: float,
) -> dict:
    plan = bank.plan
    actual = _actual(plan, size)
    target = np.flatnonzero(plan.is_target)
    features = (
        answers
        if regressor in PER_QUERY
        else label_fraction(predictions=answers.astype(np.int64), target_label=1)
    )
    available = int((~plan.is_target & np.isclose(plan.ratio, grid[0])).sum())
    draws = max(1, min(repeats, available // per_ratio))
    maes, errors = [], []
    start = time.perf_counter()
    for rep in range(draws):
        shadow = _shadow_draw(plan, grid, per_ratio, rep)
        estimate = np.clip(
            REGRESSORS[regressor](features[shadow], actual[shadow], features[target]), 0.0, 1.0
        )
        maes.append(mean_absolute_error(predicted=estimate, actual=actual[target]))
        errors.append(np.abs(estimate - actual[target]))
    fit = (time.perf_counter() - start) / draws
    models = grid.size * per_ratio + target.size
    low = plan.ratio[target] < 0.5
    mean_error = np.mean(errors, axis=0)
    return {
        "setting": label,
        "mae": float(np.mean(maes)),
        "se": float(mean_error.std(ddof=1) / np.sqrt(mean_error.size)),
        "mae_low": float(mean_error[low].mean()),
        "mae_high": float(mean_error[~low].mean()),
        "spread": float(np.std(maes)) if draws > 1 else float("nan"),
        "draws": draws,
        "worst_ratio": _worst(plan.ratio[target], np.mean(errors, axis=0)),
        "models": models,
        "seconds": bank.per_model * models + score_seconds + fit,
    }


def _worst(ratios: np.ndarray, errors: np.ndarray) -> str:
    values = np.unique(ratios)
    per = [errors[ratios == r].mean() for r in values]
    k = int(np.argmax(per))
    return f"{values[k]:.2f}:{per[k]:.3f}"


def _scores(bank: Bank, pool: Pool, queries: np.ndarray, label: int) -> tuple[np.ndarray, float]:
    """The label-only answers [K, q] (1 where a model answers ``label``) and their time;
    a model's score is their mean (:func:`leakbench.attacks.property.label_fraction`)."""
    start = time.perf_counter()
    answers = predict_logits(bank.models, pool.x[queries]).argmax(axis=2) == label
    return answers.astype(np.float64), time.perf_counter() - start


def _noise_table(bank: Bank, answers: np.ndarray) -> None:
    plan = bank.plan
    scores = answers.mean(axis=1)
    shadow = ~plan.is_target
    means = np.array([scores[shadow & np.isclose(plan.ratio, r)].mean() for r in FINE_GRID])
    stds = np.array([scores[shadow & np.isclose(plan.ratio, r)].std() for r in FINE_GRID])
    slope = np.gradient(means, FINE_GRID)
    print("  ratio  mean_score  std_score   slope   std/|slope|")
    for r, m, s, d in zip(FINE_GRID, means, stds, slope, strict=True):
        floor = s / abs(d) if d != 0 else float("inf")
        print(f"  {r:5.2f}  {m:10.4f}  {s:9.4f}  {d:7.3f}  {floor:10.3f}")


COLUMNS = (  # (heading, key, width, format) of the sweep's table; the first is left-aligned
    ("setting", "setting", 48, "s"),
    ("MAE", "mae", 6, ".3f"),
    ("se", "se", 6, ".3f"),
    ("spread", "spread", 6, ".3f"),
    ("draws", "draws", 5, "d"),
    ("worst t:err", "worst_ratio", 12, "s"),
    ("t<.5", "mae_low", 6, ".3f"),
    ("t>.5", "mae_high", 6, ".3f"),
    ("models", "models", 6, "d"),
    ("time_s", "seconds", 7, ".1f"),
)


def _print(rows: list[dict]) -> None:
    """The rows as a table, each setting once (a setting two factors share is repeated)."""
    align = ["<"] + [">"] * (len(COLUMNS) - 1)
    print("  " + " ".join(f"{h:{a}{w}s}" for (h, _, w, _), a in zip(COLUMNS, align, strict=True)))
    seen = set()
    for r in rows:
        if r["setting"] in seen:
            continue
        seen.add(r["setting"])
        cells = (f"{r[k]:{a}{w}{f}}" for (_, k, w, f), a in zip(COLUMNS, align, strict=True))
        print("  " + " ".join(cells))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=ROOT / "config/config.yaml")
    parser.add_argument("--property", default="sex")
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--models", default="logreg,mlp")
    parser.add_argument("--bank", type=int, default=40, help="shadows per 0.05-grid ratio")
    parser.add_argument("--targets", type=int, default=10, help="targets per target ratio")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--most-queries", type=int, default=5000)
    parser.add_argument(
        "--overrides",
        nargs="*",
        default=[],
        help="extra training settings to try per model row, as YAML maps, e.g. '{epochs: 80}'",
    )
    parser.add_argument(
        "--scales", default="", help="train_size:rate pairs to try, e.g. 4000:0.05,1000:0.1"
    )
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args()


def _sweep(
    *,
    bank: Bank,
    clean: Bank,
    pool: Pool,
    sides: PropertySides,
    study: dict,
    args: argparse.Namespace,
) -> list[dict]:
    """Every one-factor setting on one bank; ``clean`` (p = 0 shadows) picks uncertain queries."""
    label, q = study["target_label"], study["queries"]
    common = {"bank": bank, "size": study["train_size"], "repeats": args.repeats}

    def row(name, scores, seconds, grid=COARSE_GRID, per=5, regressor="isotonic"):
        return _setting(
            label=name, answers=scores, grid=grid, per_ratio=per, regressor=regressor,
            score_seconds=seconds, **common,
        )  # fmt: skip

    base, base_s = _scores(bank, pool, sides.queries[:q], label)  # answers [K, q]
    print(f"score noise per ratio ({q} random queries, {args.bank} shadows each):")
    _noise_table(bank, base)
    rows = []
    for grid_name, grid in (("0.1", COARSE_GRID), ("0.05", FINE_GRID)):
        most = args.bank if grid is COARSE_GRID else args.bank // 2
        for per in sorted({2, 5, 10, 20, most} & set(range(1, most + 1))):
            name = f"grid {grid_name}, {per}/ratio, q={q}, isotonic"
            rows.append(row(name, base, base_s, grid=grid, per=per))
    for count in (100, 300, 1000, 3000, args.most_queries):
        scores, secs = _scores(bank, pool, sides.queries[:count], label)
        rows.append(row(f"grid 0.1, 5/ratio, q={count}, isotonic", scores, secs))
    for count in (100, 1000, 3000):
        start = time.perf_counter()
        picked = study_lib.select_queries(
            pool=pool, candidates=sides.queries, count=count, selection="uncertain",
            target_label=label, clean_shadows=clean.models,
        )  # fmt: skip
        choose = time.perf_counter() - start + clean.seconds
        scores, secs = _scores(bank, pool, picked, label)
        name = f"grid 0.1, 5/ratio, q={count} uncertain, isotonic"
        rows.append(row(name, scores, secs + choose))
        if count == q:
            print(f"score noise per ratio ({q} uncertain queries):")
            _noise_table(bank, scores)
    for regressor in REGRESSORS:
        for per in sorted({5, min(20, args.bank)}):
            name = f"grid 0.1, {per}/ratio, q={q}, {regressor}"
            rows.append(row(name, base, base_s, per=per, regressor=regressor))
    return rows


def main() -> None:
    args = _arguments()
    configure_torch(args.threads)
    torch.set_num_threads(args.threads)
    config = validate_schema(read_yaml(args.config), load_schema(SCHEMA))
    study, seed = config["property_poisoning"], config["seed"]
    target_ratios = study["regression"]["target_ratios"]
    pool = Pool.load(args.pool)
    prop = pool.properties[args.property]
    sides = make_sides(
        prop=prop,
        test_size=study["test_size"],
        query_candidates=args.most_queries,
        poison_max=poison_count(rate=args.rate, clean=study["train_size"]),
        seed=derive_seed(seed, "bench", args.property, "sides"),
    )
    rows_by_name = {row["variant"]: row for row in study["models"]}
    knobs = ("epochs", "batch_size", "lr", "weight_decay")
    for name in args.models.split(","):
        base = rows_by_name[name]
        for row in [base] + [{**base, **yaml.safe_load(text)} for text in args.overrides]:
            common = {"pool": pool, "prop": prop, "sides": sides, "study": study, "row": row}
            bank = _train_bank(
                rate=args.rate, target_ratios=target_ratios, targets=args.targets,
                shadow_ratios=FINE_GRID, shadows=args.bank, seed=seed, **common,
            )  # fmt: skip
            clean = _train_bank(
                rate=0.0, target_ratios=[], targets=1, shadow_ratios=COARSE_GRID, shadows=5,
                seed=seed, **common,
            )  # fmt: skip
            head = " ".join(f"{k}={row[k]}" for k in knobs)
            print(
                f"\n== {args.property}/{name} p={args.rate:g} {head}: {bank.plan.ratio.size} "
                f"models in {bank.seconds:.1f} s ({1000 * bank.per_model:.1f} ms/model)"
            )
            _print(_sweep(bank=bank, clean=clean, pool=pool, sides=sides, study=study, args=args))
        if args.scales:
            _scale_sweep(pool=pool, prop=prop, study=study, row=base, args=args,
                         target_ratios=target_ratios, seed=seed)  # fmt: skip


def _scale_sweep(
    *,
    pool: Pool,
    prop: np.ndarray,
    study: dict,
    row: dict,
    args: argparse.Namespace,
    target_ratios: list[float],
    seed: int,
) -> None:
    """The training-set size and the poisoning rate: one bank each (0.05 grid, 10/ratio)."""
    q = study["queries"]
    rows = []
    for pair in args.scales.split(","):
        size_text, rate_text = pair.split(":")
        size, rate = int(size_text), float(rate_text)
        scaled = {**study, "train_size": size}
        sides = make_sides(
            prop=prop,
            test_size=study["test_size"],
            query_candidates=q,
            poison_max=poison_count(rate=rate, clean=size),
            seed=derive_seed(seed, "bench", args.property, "sides", size, rate),
        )
        bank = _train_bank(
            pool=pool, prop=prop, sides=sides, study=scaled, row=row, rate=rate,
            target_ratios=target_ratios, targets=args.targets, shadow_ratios=FINE_GRID,
            shadows=10, seed=seed,
        )  # fmt: skip
        answers, secs = _scores(bank, pool, sides.queries, study["target_label"])
        for grid_name, grid, per, regressor in (
            ("0.1", COARSE_GRID, 5, "isotonic"),
            ("0.05", FINE_GRID, 10, "isotonic"),
            ("0.05", FINE_GRID, 10, "weighted"),
        ):
            rows.append(
                _setting(
                    label=f"{row['variant']} n={size} p={rate:g}, grid {grid_name}, {per}/ratio, "
                    f"{regressor}",
                    bank=bank,
                    answers=answers,
                    grid=grid,
                    per_ratio=per,
                    regressor=regressor,
                    size=size,
                    repeats=args.repeats,
                    score_seconds=secs,
                )
            )
    print(f"\n== training-set size n and poisoning rate p (q={q} random queries)")
    _print(rows)


if __name__ == "__main__":
    main()
