"""File-level steps of the data stage: fetch raw files, prepare a pool."""

from __future__ import annotations

from leakbench.data import fetch_raw, sha256_file, verify_raw
from leakbench.data.registry import get_dataset
from leakbench.io import write_json
from leakbench.seeding import derive_seed
from leakbench.steps.context import Files, Job


def fetch(*, job: Job, files: Files) -> None:
    """Fetch and verify every raw file of the job's dataset beside its manifest (the
    output); list them in it."""
    spec = get_dataset(job.wildcard("dataset"))
    manifest = files.output()
    paths = fetch_raw(spec, raw_dir=manifest.parent)
    write_json(manifest, {path.name: sha256_file(path) for path in paths})


def prepare(*, job: Job, files: Files) -> None:
    """Parse (or, for a synthetic dataset, generate) the pool and describe it; the
    ``options`` setting holds the dataset's preparation options."""
    dataset, options = job.wildcard("dataset"), job.setting("options")
    spec = get_dataset(dataset)
    pool_out, raw = files.output("pool"), files.input_list("raw")
    raw_dir = raw[0].parent if raw else pool_out.parent / "raw"
    verify_raw(spec, raw_dir=raw_dir)
    pool = spec.prepare(
        raw_dir=raw_dir, seed=derive_seed(job.config_seed, "data", dataset), **options
    )
    pool.save(pool_out)
    write_json(
        files.output("info"),
        {
            "dataset": dataset,
            "description": spec.description,
            "synthetic": spec.synthetic,
            "records": len(pool),
            "input_shape": list(pool.x.shape[1:]),
            "num_classes": pool.num_classes,
            "class_counts": [int((pool.y == c).sum()) for c in range(pool.num_classes)],
            "properties": {k: int(v.sum()) for k, v in sorted(pool.properties.items())},
            "options": dict(options),
        },
    )
