# Small helpers only: config validation, the grid, code inputs, wildcard constraints.
import os
from pathlib import Path

from leakbench.codeinputs import library_files
from leakbench.config import check_names, load_schema, validate_schema
from leakbench.names import REAL, SHADOW_DATA_PATTERN
from leakbench.studies.specs import STUDIES

ROOT = Path(workflow.basedir)
# Jobs (local, conda or cluster) import the library from this checkout.
# Set, not read: nothing is required of the caller's environment.
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
    )
)

config.update(validate_schema(config, load_schema(ROOT / "workflow/schemas/config.schema.yaml")))
# The cross-field checks build a model of every grid row (torch's import alone is a
# second). The Snakemake that plans the run makes them before any job starts; one that
# runs a job inside a cluster allocation (exec mode remote) reads the same config again
# only to find its job, and skips them: each job of a Slurm run parses the workflow.
if not workflow.remote_exec:
    check_names(config)

ENV = "../../envs/leakbench.yaml"


wildcard_constraints:
    dataset="[a-z0-9_]+",
    variant="[a-z0-9][a-z0-9_.-]*",
    role="target|shadow",
    attack="[a-z0-9_]+",
    study="[a-z0-9_]+",
    property="[a-z0-9_]+",
    model="[a-z0-9][a-z0-9_-]*",
    rate="[0-9][0-9.e-]*",
    privacy="nodp|eps[0-9][0-9.e+-]*",
    part="[0-9]+",
    shadow_data=SHADOW_DATA_PATTERN,


# A job killed by SIGKILL leaves the temporary of its atomic write beside the target; a
# new run holds the lock, so no writer can be using one. The killed job itself is marked
# incomplete by Snakemake and runs again (profiles set rerun-incomplete).
onstart:
    from leakbench.io import remove_stale_temporaries

    for path in remove_stale_temporaries("results"):
        logger.info(f"Removed {path}, left by a killed job")


def imports_of(script):
    """The library files a rule's ``script`` (a name under workflow/scripts/) imports,
    transitively (:func:`leakbench.codeinputs.library_files`), for its ``code`` input.

    Snakemake re-runs a job when its script changes, not when an imported module does;
    declaring the modules as inputs makes a code change re-run the jobs it affects. The
    paths are relative to the working directory (the repository root in normal use), so
    the same results in a checkout at another path keep the same input set.

    Empty in a Snakemake that runs a job inside a cluster allocation (exec mode remote):
    code inputs only decide whether a job reruns, which the planning Snakemake has
    decided, and only it records them in the job's metadata; a job's script reads none.
    The scan is a third of a job-side workflow parse (about 0.3 CPU-s), paid by every job.
    """
    if workflow.remote_exec:
        return []
    files = library_files(
        script=ROOT / "workflow/scripts" / script, src=ROOT / "src", package="leakbench"
    )
    return [os.path.relpath(path) for path in files]


def grid(study):
    """The study's grid rows as a list of dicts (the one place a grid is expanded)."""
    return config[study]["grid"] if study in config else []


def grid_row(study, wildcards):
    """The grid row a job's (dataset, variant) wildcards name."""
    for row in grid(study):
        if row["dataset"] == wildcards.dataset and row["variant"] == wildcards.variant:
            return row
    raise ValueError(f"{study}: no grid row for {wildcards.dataset}/{wildcards.variant}")


def row_of(study, key=None):
    """A params function: the job's grid row, or one ``key`` of it."""

    def params(wildcards):
        row = grid_row(study, wildcards)
        return row if key is None else row[key]

    return params


def with_privacy(row, wildcards):
    """A config row with the DP settings of the job's privacy variant (none for nodp)."""
    from leakbench.studies.dp_axis import settings

    dp = settings(config["privacy"], getattr(wildcards, "privacy", "nodp"))
    return dict(row) if dp is None else {**row, "privacy": dp}


def private_row(study):
    """A params function: the job's grid row with its privacy variant's DP settings."""
    return lambda wildcards: with_privacy(grid_row(study, wildcards), wildcards)


def dp_cells(study, pattern, **more):
    """``pattern`` for every privacy variant of every DP cell of the study, crossed with
    every combination of ``more``; each cell fills the wildcards its spec's DP axis names."""
    from leakbench.studies.dp_axis import dp_cells as cells, variant_names

    keys = STUDIES[study].dp_axis.keys
    fill = {key: [cell.wildcards[key] for cell in cells(config, study)] for key in keys}
    patterns = expand(pattern, privacy=variant_names(config["privacy"]), **more, allow_missing=True)
    return [path for p in patterns for path in expand(p, zip, **fill, allow_missing=True)]


def raw_manifest(wildcards):
    """The verified raw files of the job's dataset; synthetic datasets have none."""
    from leakbench.data.registry import get_dataset

    if get_dataset(wildcards.dataset).synthetic:
        return []
    return f"results/data/{wildcards.dataset}/raw/manifest.json"


def data_options(wildcards):
    """The config's preparation options of the job's dataset."""
    return config["data"].get(wildcards.dataset, {})


def attack_params(wildcards):
    """The configured keyword parameters of the job's attack."""
    return config["membership"]["attack_params"].get(wildcards.attack, {})


def shadow_attacks():
    """The configured membership attacks that train on shadow models."""
    from leakbench.attacks import get_attack

    return [a for a in config["membership"]["attacks"] if get_attack(a).needs_shadows]


def membership_cells(real, generated):
    """Every nodp cell of the membership study: ``real`` for each grid row and attack, then
    ``generated`` for each row's non-real shadow-data variant and each attack on shadows."""
    cells = expand_grid(real, "membership", attack=config["membership"]["attacks"], privacy="nodp")
    for row in grid("membership"):
        cells += expand(
            generated,
            dataset=row["dataset"],
            variant=row["variant"],
            shadow_data=[name for name in row["shadow_data"] if name != REAL],
            attack=shadow_attacks(),
        )
    return cells


def defence_rows(pattern):
    """``pattern`` for every membership grid row with output defences."""
    rows = [row for row in grid("membership") if row["defences"]]
    return [expand(pattern, dataset=r["dataset"], variant=r["variant"])[0] for r in rows]


def synthesis_target(wildcards):
    """The row's target, which model-based synthesis queries (``synthetic`` only)."""
    if wildcards.shadow_data != "synthetic":
        return {}
    return {"target": expand(f"{MEMBERSHIP}/nodp/target.safetensors", **wildcards)[0]}


def lira_parts(wildcards):
    """The model files of a membership_lira cell's training jobs, in model order
    (``LIRA``: the cell's model folder, membership_lira.smk)."""
    from leakbench.studies.lira_splits import parts

    row = grid_row("membership_lira", wildcards)
    count = len(parts(models=row["models"], stack=row["stack"]))
    return expand(f"{LIRA}/part{{part}}.safetensors", part=range(count), **wildcards)


def expand_grid(pattern, study, **more):
    """Format ``pattern`` for every grid row, crossed with every combination of ``more``."""
    rows = grid(study)
    patterns = expand(pattern, **more, allow_missing=True) if more else [pattern]
    return [
        path
        for p in patterns
        for path in expand(
            p,
            zip,
            dataset=[r["dataset"] for r in rows],
            variant=[r["variant"] for r in rows],
            allow_missing=True,
        )
    ]


def with_dp(plain, private):
    """The nodp paths of every cell followed by the DP cells' other variants (each once)."""
    return list(dict.fromkeys([*plain, *private]))


def configured_studies():
    """The specs of the studies the config has a section for, in include order."""
    return [spec for name, spec in STUDIES.items() if name in config]


def final_outputs():
    """Every table, figure, metrics file and tracking receipt of the configured studies."""
    return [path for spec in configured_studies() for path in spec.final_outputs]


def study_outputs(study):
    """The named outputs of a study's aggregate rule, from its spec; the outputs the report
    shows carry the study's category and their caption (``output: **study_outputs(...)``)."""
    spec = STUDIES[study]
    return {out.name: shown(out, spec.category) if out.report else out.path for out in spec.outputs}


def shown(out, category):
    """A study output the report shows, under ``category``, with its caption if any."""
    caption = None if out.caption is None else str(ROOT / "workflow/report" / out.caption)
    return report(out.path, caption=caption, category=category)


def property_rates(kind):
    """Poisoning rates as path parts: ``pairs`` for the two-world groups, ``regression``."""
    from leakbench.names import REGRESSION
    from leakbench.studies.property_rates import poison_rates

    study = config["property_poisoning"]
    group = REGRESSION if kind == "regression" else "pairs"
    return [f"{rate:g}" for rate in poison_rates(study, group)]


def property_model(wildcards):
    """The config row of the job's model variant, with its privacy variant's DP settings."""
    for row in config["property_poisoning"]["models"]:
        if row["variant"] == wildcards.model:
            return with_privacy(row, wildcards)
    raise ValueError(f"property_poisoning: no model row {wildcards.model!r}")


def property_records(kind):
    """Every metrics record of the property-poisoning study (``pairs`` or ``regression``)."""
    from leakbench.names import RatioPair

    study = config["property_poisoning"]
    base = f"results/attacks/property_poisoning/{study['dataset']}"
    models = [row["variant"] for row in study["models"]]
    if kind == "regression":
        return expand(
            f"{base}/{{prop}}/regression/{{model}}.json", prop=study["properties"], model=models
        )
    return expand(
        f"{base}/{{prop}}/{{group}}/{{model}}/nodp/p{{rate}}.json",
        prop=study["properties"],
        group=[str(RatioPair(t0, t1)) for t0, t1 in study["ratio_pairs"]],
        model=models,
        rate=property_rates("pairs"),
    )


def canary_inputs(wildcards):
    """The canary target, its canaries and the pool, when the config asks for canaries
    (``CANARY``: the canary files' path stem, privacy.smk)."""
    if not config["privacy"]["canaries"]:
        return {}
    return {
        "canary_pool": f"results/data/{wildcards.dataset}/pool.npz",
        "canary_model": expand(f"{CANARY}.safetensors", **wildcards)[0],
        "canaries": expand(f"{CANARY}s.npz", **wildcards)[0],
    }


def summaries_of_other_studies(name):
    """``{study: [its metrics files]}`` of every configured study but ``name``."""
    from leakbench.studies.spec import OutputKind

    return {
        spec.name: [out.path for out in spec.of_kind(OutputKind.METRICS)]
        for spec in configured_studies()
        if spec.name != name
    }


WHITEBOX = "results/audit/whitebox/{dataset}/{privacy}.json"
BLACKBOX = "results/audit/blackbox/{dataset}/{privacy}.json"
ONE_RUN = "results/audit/one_run/{dataset}/{privacy}.json"


def cell_audits(pattern):
    """The records of an audit cell's rule (privacy.smk, ``pattern`` WHITEBOX, BLACKBOX or
    ONE_RUN): the audit cell's dataset at every finite epsilon."""
    from leakbench.studies.dp_axis import variant_names

    names = [name for name in variant_names(config["privacy"]) if name != "nodp"]
    return expand(pattern, dataset=config["privacy"]["audit"]["dataset"], privacy=names)


def whitebox_row(wildcards):
    """An audit cell job's row (white-box, black-box or one-run): its privacy variant's DP
    settings."""
    return with_privacy({}, wildcards)
