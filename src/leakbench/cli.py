"""The ``leakbench`` command: list what the benchmark knows, validate a config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leakbench import __version__
from leakbench.errors import LeakbenchError, UnknownNameError

DEFAULT_SCHEMA = Path("workflow/schemas/config.schema.yaml")


def _list(args: argparse.Namespace) -> int:
    from leakbench.attacks import ATTACKS
    from leakbench.data.registry import DATASETS
    from leakbench.models import ARCHITECTURES
    from leakbench.studies import STUDIES

    sections = {
        "datasets": {n: s.description for n, s in DATASETS.items()},
        "attacks": {n: f"{s.description} ({s.reference})" for n, s in ATTACKS.items()},
        "architectures": {n: a.description for n, a in ARCHITECTURES.items()},
        "studies": {n: f"{s.description} ({s.reference})" for n, s in STUDIES.items()},
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

    config = load_config(args.config, args.schema)
    from leakbench.studies import STUDIES

    studies = [name for name in STUDIES if name in config]
    print(f"{args.config}: valid (studies: {', '.join(studies)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``leakbench`` command."""
    parser = argparse.ArgumentParser(prog="leakbench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"leakbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    lister = sub.add_parser("list", help="list the datasets, attacks, architectures and studies")
    lister.add_argument("what", nargs="*", help="datasets, attacks, architectures, studies")
    lister.set_defaults(func=_list)

    validator = sub.add_parser("validate", help="validate a config file against the schema")
    validator.add_argument("config", type=Path)
    validator.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    validator.set_defaults(func=_validate)
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
