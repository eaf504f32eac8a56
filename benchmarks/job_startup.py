"""Benchmark: the start-up every workflow job pays before it does any work.

Each rule runs its adapter in workflow/scripts/ in a fresh interpreter, so every job pays
Python's start-up and the imports of its adapter (torch, scikit-learn, matplotlib, pandas
where the step module pulls them in). At the test config's scale that start-up is most of a
job's time. For every adapter this prints the best of ``--repeats`` wall times of a fresh
``python`` running only the adapter's import lines, the heavy packages those imports load,
and the rule count-weighted total of the default config's DAG (``--dag`` counts jobs per
rule from ``snakemake -n``; without it every adapter counts once). The baseline is a bare
``python -c pass`` in the same run.

Run: python benchmarks/job_startup.py [--repeats 3] [--dag config/config.yaml]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow/scripts"
HEAVY = ("torch", "sklearn", "scipy", "matplotlib", "pandas", "mlflow", "opacus")


def import_lines(script: Path) -> str:
    """The adapter's top-level import statements."""
    lines = script.read_text().splitlines()
    return "\n".join(line for line in lines if re.match(r"(from|import) ", line))


def best_wall(code: str, *, repeats: int) -> float:
    """Best wall seconds of a fresh interpreter running ``code``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def heavy_modules(code: str) -> list[str]:
    """The packages of :data:`HEAVY` that ``code`` imports."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, env=env, capture_output=True, text=True
    )
    return out.stdout.split()


def rule_scripts() -> dict[str, str]:
    """Adapter file name of every rule with a ``script:``, from workflow/rules/*.smk
    (``use rule A as B`` inherits A's adapter unless it names its own)."""
    scripts: dict[str, str] = {}
    for rules in sorted((ROOT / "workflow/rules").glob("*.smk")):
        blocks = re.split(r"^(?=rule |use rule )", rules.read_text(), flags=re.M)
        for block in blocks:
            named = re.match(r"rule (\w+):|use rule (\w+) as (\w+)", block)
            if not named:
                continue
            rule = named.group(1) or named.group(3)
            script = re.search(r"script:\s*\n\s+\"\.\./scripts/([\w.]+)\"", block)
            if script:
                scripts[rule] = script.group(1)
            elif named.group(2) in scripts:
                scripts[rule] = scripts[named.group(2)]
    return scripts


def jobs_per_script(config: Path) -> dict[str, int]:
    """Jobs per adapter in a dry run of ``config`` from an empty folder."""
    with tempfile.TemporaryDirectory() as workdir:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "-n",
                "--quiet",
                "rules",
                "--snakefile",
                str(ROOT / "Snakefile"),
                "--directory",
                workdir,
                "--configfile",
                str(config.resolve()),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    scripts = rule_scripts()
    counts: dict[str, int] = {}
    # A dry run prints its job stats twice (planned, then the summary): read the first.
    first = out.split("Job stats:")[1]
    for line in first.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] in scripts:
            counts[scripts[parts[0]]] = counts.get(scripts[parts[0]], 0) + int(parts[1])
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dag", type=Path, help="weight each adapter by its jobs in this config")
    args = parser.parse_args()
    counts = jobs_per_script(args.dag) if args.dag else {}
    bare = best_wall("pass", repeats=args.repeats)
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f}; bare python: {bare:.2f} s")
    print(f"{'adapter':34s} {'jobs':>4s} {'start-up s':>10s}  heavy imports")
    total = 0.0
    for script in sorted(SCRIPTS.glob("*.py")):
        if args.dag and script.name not in counts:
            continue
        code = import_lines(script)
        seconds = best_wall(code, repeats=args.repeats)
        jobs = counts.get(script.name, 1)
        total += jobs * seconds
        print(f"{script.name:34s} {jobs:4d} {seconds:10.2f}  {' '.join(heavy_modules(code))}")
    print(f"job-seconds of start-up over these jobs: {total:.0f}")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
