"""File-level steps of the data stage: fetch raw files, prepare a pool."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leakbench.data import fetch_raw, get_dataset, sha256_file, verify_raw
from leakbench.io import write_json
from leakbench.seeding import derive_seed


def fetch(*, dataset: str, manifest: str | Path) -> None:
    """Fetch and verify every raw file of ``dataset`` beside ``manifest``; list them in it."""
    spec = get_dataset(dataset)
    files = fetch_raw(spec, raw_dir=Path(manifest).parent)
    write_json(manifest, {path.name: sha256_file(path) for path in files})


def prepare(
    *,
    dataset: str,
    raw_manifest: str | Path | None,
    pool_out: str | Path,
    info_out: str | Path,
    seed: int,
    options: Mapping[str, Any],
) -> None:
    """Parse (or, for a synthetic dataset, generate) the pool and describe it."""
    spec = get_dataset(dataset)
    raw_dir = Path(raw_manifest).parent if raw_manifest else Path(pool_out).parent / "raw"
    verify_raw(spec, raw_dir=raw_dir)
    pool = spec.prepare(raw_dir=raw_dir, seed=derive_seed(seed, "data", dataset), **options)
    pool.save(pool_out)
    write_json(
        info_out,
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
