"""The ``leakbench`` command: list what the benchmark knows, fetch a dataset's raw files
(recording the digest of files whose publisher states none), validate a config, write
``dvc.yaml`` from the study specs, check a run's reproduction scorecard, check a run's
tables against the committed reference tables (and make a run's tables the reference)."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from leakbench import __version__
from leakbench.errors import LeakbenchError, UnknownNameError

DEFAULT_SCHEMA = Path("workflow/schemas/config.schema.yaml")
DEFAULT_SCORECARD = Path("results/tables/scorecard.csv")
DEFAULT_EXPECTED = Path("workflow/scorecard/expected.csv")
DEFAULT_TABLES = Path("results/tables")
DEFAULT_REFERENCE = Path("reference")


def _list(args: argparse.Namespace) -> int:
    from leakbench.attacks import ATTACKS
    from leakbench.data.registry import DATASETS
    from leakbench.estimators import FAMILIES
    from leakbench.models import ARCHITECTURES
    from leakbench.studies.specs import STUDIES

    sections = {
        "datasets": {n: s.description for n, s in DATASETS.items()},
        "attacks": {n: f"{s.description} ({s.reference})" for n, s in ATTACKS.items()},
        "architectures": {
            **{n: a.description for n, a in ARCHITECTURES.items()},
            **{n: f"{f.description} (membership only)" for n, f in FAMILIES.items()},
        },
        "studies": {n: f"{s.description} ({s.reference})" for n, s in STUDIES.items()},
        "outputs": {
            o.path: f"{s.name} {o.kind.value}" for s in STUDIES.values() for o in s.outputs
        },
    }
    for title in args.what:
        if title not in sections:
            raise UnknownNameError("list", title, sections)
    for title in args.what or list(sections):
        print(f"{title}:")
        for name, text in sorted(sections[title].items()):
            print(f"  {name:<16} {text}".rstrip())
    return 0


def _validate(args: argparse.Namespace) -> int:
    from leakbench.config import load_config
    from leakbench.studies.specs import STUDIES

    config = load_config(args.config, args.schema)

    studies = [name for name in STUDIES if name in config]
    print(f"{args.config}: valid (studies: {', '.join(studies)})")
    return 0


def _dvc_yaml(args: argparse.Namespace) -> int:
    from leakbench.studies.dvc import render
    from leakbench.studies.specs import STUDIES

    text = render(studies=STUDIES)
    if not args.check:
        args.path.write_text(text, encoding="utf-8")
        print(f"{args.path}: written from the study specs")
        return 0
    committed = args.path.read_text(encoding="utf-8") if args.path.is_file() else ""
    if committed == text:
        print(f"{args.path}: matches the study specs")
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(keepends=True),
        text.splitlines(keepends=True),
        fromfile=f"{args.path} (committed)",
        tofile=f"{args.path} (from the study specs)",
    )
    sys.stderr.writelines(diff)
    print(
        f"leakbench: error: {args.path} differs from the study specs; run `leakbench dvc-yaml`",
        file=sys.stderr,
    )
    return 1


def _scorecard(args: argparse.Namespace) -> int:
    from leakbench.reporting.scorecard_check import compare_verdicts, read_verdicts

    actual = read_verdicts(args.scorecard)
    if not args.check:
        for row_id, verdict in actual.items():
            print(f"{row_id}: {verdict.value}")
        return 0
    comparison = compare_verdicts(expected=read_verdicts(args.expected), actual=actual)
    for change in comparison.better:
        print(f"better: {change}")
    for row_id in comparison.unexpected:
        print(f"not in {args.expected}: {row_id}: {actual[row_id].value}")
    for change in comparison.worse:
        print(f"worse: {change}", file=sys.stderr)
    if not comparison.passed:
        print(
            f"leakbench: error: {args.scorecard}: {len(comparison.worse)} verdicts worse than "
            f"{args.expected}",
            file=sys.stderr,
        )
        return 1
    print(f"{args.scorecard}: no verdict worse than {args.expected}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from leakbench.reporting.verify import verify

    result = verify(tables=args.tables, reference=args.reference)
    print(result.summary(), file=sys.stdout if result.passed else sys.stderr)
    return 0 if result.passed else 1


def _reference(args: argparse.Namespace) -> int:
    from leakbench.reporting.verify import write_reference

    for path in write_reference(tables=args.tables, reference=args.reference):
        print(f"{path}: written")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from leakbench.data import fetch_raw
    from leakbench.data.registry import get_dataset

    raw_dir = args.raw_dir or Path("results/data") / args.dataset / "raw"
    for path in fetch_raw(
        get_dataset(args.dataset), raw_dir=raw_dir, record_digest=args.record_digest
    ):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``leakbench`` command."""
    parser = argparse.ArgumentParser(prog="leakbench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"leakbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    lister = sub.add_parser("list", help="list the datasets, attacks, architectures and studies")
    lister.add_argument(
        "what", nargs="*", help="datasets, attacks, architectures, studies, outputs"
    )
    lister.set_defaults(func=_list)

    fetcher = sub.add_parser("fetch", help="fetch and verify one dataset's raw files")
    fetcher.add_argument("dataset")
    fetcher.add_argument(
        "--raw-dir", type=Path, default=None, help="default: results/data/<dataset>/raw"
    )
    fetcher.add_argument(
        "--record-digest",
        action="store_true",
        help="where the publisher states no sha256, record the digest of this first "
        "download (<file>.sha256 beside it) as the pin every later fetch checks",
    )
    fetcher.set_defaults(func=_fetch)

    validator = sub.add_parser("validate", help="validate a config file against the schema")
    validator.add_argument("config", type=Path)
    validator.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    validator.set_defaults(func=_validate)

    dvc = sub.add_parser("dvc-yaml", help="write dvc.yaml from the study specs")
    dvc.add_argument("--path", type=Path, default=Path("dvc.yaml"))
    dvc.add_argument(
        "--check", action="store_true", help="exit 1 with a diff if the file differs instead"
    )
    dvc.set_defaults(func=_dvc_yaml)

    card = sub.add_parser("scorecard", help="print or check a run's reproduction scorecard")
    card.add_argument("scorecard", type=Path, nargs="?", default=DEFAULT_SCORECARD)
    card.add_argument("--expected", type=Path, default=DEFAULT_EXPECTED)
    card.add_argument(
        "--check",
        action="store_true",
        help="exit 1, naming each row, if a verdict is worse than the expected one",
    )
    card.set_defaults(func=_scorecard)

    check = sub.add_parser(
        "verify", help="check a run's tables against the reference tables, one verdict each"
    )
    check.add_argument("--tables", type=Path, default=DEFAULT_TABLES)
    check.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    check.set_defaults(func=_verify)

    ref = sub.add_parser(
        "reference", help="make a run's tables the reference tables (with this platform)"
    )
    ref.add_argument("--tables", type=Path, default=DEFAULT_TABLES)
    ref.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    ref.set_defaults(func=_reference)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for a bad config)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LeakbenchError as err:
        print(f"leakbench: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
